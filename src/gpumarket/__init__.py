"""gpumarket: client and CLI for the GPU compute market."""
