#!/usr/bin/env node
// A native-solc look-alike over solc-js (the npm `solc` package), so that py-solc-x,
// ape-solidity, forge and Slither can compile offline with the pinned compiler.
//
// Supported calls:
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths a,b]   (JSON on stdin)
//   solc --combined-json abi,bin,... [--base-path P] [remapping=...] file.sol...        (Slither)
//   solc --ast-compact-json file.sol... --output-dir D [--overwrite] [remapping=...]     (Gambit)
// Output is written with a completion callback before exiting: exiting straight after
// a large write would cut the JSON at the pipe buffer size (64 KiB).
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

function finish(text, code) {
  process.stdout.write(text, () => process.exit(code));
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], remappings: [], files: [], mode: null, combined: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (a.includes("=")) return a.slice(a.indexOf("=") + 1);
      return argv[++i];
    };
    if (a === "--version") opts.mode = "version";
    else if (a === "--standard-json") opts.mode = "standard-json";
    else if (a.startsWith("--combined-json")) { opts.mode = "combined-json"; opts.combined = value().split(","); }
    else if (a === "--ast-compact-json") opts.mode = "ast";
    else if (a.startsWith("--output-dir")) opts.outputDir = value();
    else if (a.startsWith("--base-path")) opts.basePath = value();
    else if (a.startsWith("--include-path")) opts.includePaths.push(value());
    else if (a.startsWith("--allow-paths")) opts.allowPaths.push(...value().split(","));
    else if (a.startsWith("--evm-version")) opts.evmVersion = value();
    else if (a === "--optimize") opts.optimize = true;
    else if (a.startsWith("--optimize-runs")) opts.optimizeRuns = parseInt(value(), 10);
    else if (a.startsWith("--")) { /* flags without meaning for solc-js (e.g. --no-color) */ }
    else if (/^[^=]*=/.test(a) && !a.endsWith(".sol")) opts.remappings.push(a);
    else opts.files.push(a);
  }
  return opts;
}

function makeImportCallback(opts) {
  const roots = [opts.basePath, ...opts.includePaths, ...opts.allowPaths, process.cwd()].filter(Boolean);
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
    for (const c of candidates) {
      if (fs.existsSync(c) && fs.statSync(c).isFile()) return { contents: fs.readFileSync(c, "utf8") };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
}

function compile(input, opts) {
  // Sources given by URL only are read here, the way native solc reads them.
  const callback = makeImportCallback(opts);
  for (const [name, src] of Object.entries(input.sources || {})) {
    if (src.content === undefined && Array.isArray(src.urls)) {
      for (const u of src.urls) {
        const r = callback(u);
        if (r.contents !== undefined) { src.content = r.contents; delete src.urls; break; }
      }
    }
  }
  return JSON.parse(solc.compile(JSON.stringify(input), { import: callback }));
}

function combinedJson(opts) {
  const remap = opts.remappings;
  const sources = {};
  for (const f of opts.files) sources[f] = { content: fs.readFileSync(path.resolve(opts.basePath || ".", f), "utf8") };
  const want = new Set(opts.combined);
  const sel = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.bytecode.sourceMap",
    "evm.deployedBytecode.sourceMap", "userdoc", "devdoc", "metadata", "evm.methodIdentifiers"];
  const settings = {
    remappings: remap,
    optimizer: { enabled: !!opts.optimize, runs: opts.optimizeRuns || 200 },
    outputSelection: { "*": { "*": sel, "": ["ast"] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  const out = compile({ language: "Solidity", sources, settings }, opts);
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
    return finish("", 1);
  }
  const contracts = {};
  for (const [file, cs] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(cs)) {
      const o = {};
      if (want.has("abi")) o.abi = c.abi;
      if (want.has("bin")) o.bin = c.evm.bytecode.object;
      if (want.has("bin-runtime")) o["bin-runtime"] = c.evm.deployedBytecode.object;
      if (want.has("srcmap")) o.srcmap = c.evm.bytecode.sourceMap;
      if (want.has("srcmap-runtime")) o["srcmap-runtime"] = c.evm.deployedBytecode.sourceMap;
      if (want.has("userdoc")) o.userdoc = c.userdoc;
      if (want.has("devdoc")) o.devdoc = c.devdoc;
      if (want.has("hashes")) o.hashes = c.evm.methodIdentifiers;
      if (want.has("metadata")) o.metadata = c.metadata;
      contracts[`${file}:${name}`] = o;
    }
  }
  const srcs = {};
  for (const [file, s] of Object.entries(out.sources || {})) srcs[file] = { AST: s.ast, id: s.id };
  const sourceList = Object.keys(out.sources || {}).sort((a, b) => out.sources[a].id - out.sources[b].id);
  finish(JSON.stringify({ contracts, sources: srcs, sourceList, version: solc.version() }), 0);
}

// Native solc writes each source unit's compact AST to <output-dir>/<file name>_json.ast.
function astCompactJson(opts) {
  const sources = {};
  for (const f of opts.files) sources[f] = { content: fs.readFileSync(path.resolve(opts.basePath || ".", f), "utf8") };
  const settings = { remappings: opts.remappings, outputSelection: { "*": { "": ["ast"] } } };
  const out = compile({ language: "Solidity", sources, settings }, opts);
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
    return finish("", 1);
  }
  if (!opts.outputDir) {
    const parts = Object.entries(out.sources || {}).map(([f, s]) => `\n\n======= ${f} =======\n${JSON.stringify(s.ast)}`);
    return finish("JSON AST (compact format):" + parts.join("") + "\n", 0);
  }
  fs.mkdirSync(opts.outputDir, { recursive: true });
  for (const [f, s] of Object.entries(out.sources || {})) {
    fs.writeFileSync(path.join(opts.outputDir, path.basename(f) + "_json.ast"), JSON.stringify(s.ast));
  }
  finish("", 0);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === "version") {
    const v = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
    return finish(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`, 0);
  }
  if (opts.mode === "standard-json") {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => {
      let input;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        return finish(JSON.stringify({ errors: [{ severity: "error", type: "JSONError", message: String(e), formattedMessage: String(e) }] }), 0);
      }
      finish(JSON.stringify(compile(input, opts)), 0);
    });
    return;
  }
  if (opts.mode === "combined-json") return combinedJson(opts);
  if (opts.mode === "ast") return astCompactJson(opts);
  process.stderr.write("solc (solc-js wrapper): supported calls are --version, --standard-json, --combined-json and --ast-compact-json\n");
  process.exit(1);
}

main();
