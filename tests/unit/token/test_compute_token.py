from conftest import GPUC

from gpumarket.permit import sign_permit_with_key


def test_supply__is_minted_once_to_the_treasury(gpuc, treasury, params):
    assert gpuc.totalSupply() == params["gpuc_supply"]
    assert gpuc.balanceOf(treasury) == params["gpuc_supply"]
    assert gpuc.decimals() == 18
    assert gpuc.symbol() == "GPUC"


def test_token__has_no_mint_function(gpuc):
    names = {abi.name for abi in gpuc.contract_type.abi if getattr(abi, "name", None)}
    assert "mint" not in names and "burn" not in names
    assert {"permit", "nonces", "DOMAIN_SEPARATOR"} <= names


def test_permit__sets_allowance_from_a_signature(gpuc, accounts, stranger):
    holder = accounts[9]
    v, r, s = sign_permit_with_key(holder.private_key, gpuc, holder.address, stranger.address, 5 * GPUC, 2**40)
    gpuc.permit(holder, stranger, 5 * GPUC, 2**40, v, r, s, sender=stranger)
    assert gpuc.allowance(holder, stranger) == 5 * GPUC
    assert gpuc.nonces(holder) == 1
