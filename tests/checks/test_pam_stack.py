"""The PAM auth stack as libpam runs it (``checks/mfa/_pam_stack.py``): which factors each
successful path proves."""

from __future__ import annotations

from checks.facts.fact import Unknown
from checks.mfa._pam_stack import HAVE, HAVE_PR, KNOW, StackResult, stack_factors

PASSWORD_AUTH = [
    "auth required pam_env.so",
    "auth sufficient pam_unix.so nullok",
    "auth required pam_deny.so",
]


def paths(files: dict[str, list[str]], **kw: bool) -> set[frozenset[str]]:
    got = stack_factors(files, **kw)
    assert isinstance(got, StackResult), got
    return set(got.paths)


def test_a_second_factor_after_an_include_with_a_sufficient_password_is_never_asked() -> None:
    files = {
        "sshd": ["auth include password-auth", "auth required pam_google_authenticator.so"],
        "password-auth": PASSWORD_AUTH,
    }
    assert paths(files) == {frozenset({KNOW})}


def test_a_substack_ends_on_its_own_done_and_the_parent_goes_on() -> None:
    files = {
        "sshd": ["auth substack password-auth", "auth required pam_u2f.so cue"],
        "password-auth": PASSWORD_AUTH,
    }
    assert paths(files) == {frozenset({KNOW, HAVE_PR})}


def test_debian_jumps_and_nullok() -> None:
    common = [
        "auth [success=1 default=ignore] pam_unix.so nullok",
        "auth requisite pam_deny.so",
        "auth required pam_permit.so",
    ]
    files = {"sshd": ["@include common-auth", "auth required pam_oath.so nullok"]}
    files["common-auth"] = common
    assert paths(files) == {frozenset({KNOW}), frozenset({KNOW, HAVE})}
    # sshd passes PAM_DISALLOW_NULL_AUTHTOK unless PermitEmptyPasswords is yes
    assert frozenset({HAVE}) in paths(files, permit_empty=True)


def test_a_sufficient_second_factor_alone_lets_users_in() -> None:
    files = {"sshd": ["auth sufficient pam_duo.so", "auth substack password-auth"]}
    files["password-auth"] = PASSWORD_AUTH
    assert paths(files) == {frozenset({HAVE}), frozenset({KNOW})}


def test_an_included_file_not_collected_is_unknown() -> None:
    got = stack_factors({"sshd": ["auth include sssd-auth"]})
    assert isinstance(got, Unknown)
    assert "sssd-auth" in got.reason
