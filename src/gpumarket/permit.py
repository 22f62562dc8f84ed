"""EIP-2612 permit signatures for ComputeToken (and any OpenZeppelin ERC20Permit)."""

from __future__ import annotations

from eth_account import Account

PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def permit_typed_data(token, owner: str, spender: str, value: int, deadline: int) -> tuple[dict, dict]:
    """The (domain, message) an owner signs to let `spender` pull `value` of `token`."""
    d = token.eip712Domain()
    domain = {"name": d.name, "version": d.version, "chainId": d.chainId, "verifyingContract": d.verifyingContract}
    message = {"owner": owner, "spender": spender, "value": value, "nonce": token.nonces(owner), "deadline": deadline}
    return domain, message


def sign_permit_with_key(private_key, token, owner: str, spender: str, value: int, deadline: int):
    """Signs a permit with a raw key (test accounts); returns (v, r, s)."""
    domain, message = permit_typed_data(token, owner, spender, value, deadline)
    signed = Account.sign_typed_data(private_key, domain, PERMIT_TYPES, message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def sign_permit(account, token, spender: str, value: int, deadline: int):
    """Signs a permit with an ape account (keyfile or test account); returns (v, r, s)."""
    from eth_account.messages import encode_typed_data

    domain, message = permit_typed_data(token, account.address, spender, value, deadline)
    full = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "chainId", "type": "uint256"},
                                       {"name": "verifyingContract", "type": "address"}], **PERMIT_TYPES},
            "primaryType": "Permit", "domain": domain, "message": message}
    sig = account.sign_message(encode_typed_data(full_message=full))
    return sig.v, bytes(sig.r), bytes(sig.s)
