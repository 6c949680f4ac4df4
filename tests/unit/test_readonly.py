"""Every check's commands are read-only; the lint that enforces it catches what it should."""

from __future__ import annotations

import pytest

from scanner.checking.loader import load_checks
from scanner.checking.readonly import mutations
from scanner.model.vocabulary import Platform


@pytest.mark.parametrize(
    "bad",
    [
        "apt-get update",
        "apt-get install -y curl",
        "apt upgrade",
        "dnf makecache",
        "yum update -y",
        "dnf install vim",
        "zypper refresh",
        "rm -rf /tmp/x",
        "echo x > /etc/motd",
        "cat a 2>/tmp/err",
        "sed -i s/a/b/ /etc/ssh/sshd_config",
        "echo 1 | tee /proc/sys/x",
        "systemctl restart sshd",
        "useradd bob",
        "passwd root",
        "crontab -r",
        "kill -9 1",
        "touch /tmp/x",
        "snap refresh",
        "sudo -n rm /x",
        "test -f x && rm x",
        "dnf updateinfo list",
        "x=$(kill 1)",
    ],
)
def test_lint_rejects_mutating_commands(bad: str) -> None:
    assert mutations(bad), bad


@pytest.mark.parametrize(
    "bad",
    [
        "Set-ItemProperty -Path HKLM:\\x -Name y -Value 1",
        "Remove-Item C:\\x",
        "Get-WmiObject Win32_Product",
        "reg add HKLM\\Software\\x",
        "Start-Service wuauserv",
        "wuauclt /detectnow",
    ],
)
def test_lint_rejects_mutating_windows_commands(bad: str) -> None:
    assert mutations(bad, Platform.WINDOWS), bad


@pytest.mark.parametrize(
    "good",
    [
        "apt-get -s -o Debug::NoLocking=1 upgrade",
        "dnf -C -q updateinfo list --security --available",
        "cat /etc/os-release 2>/dev/null",
        "sshd -T 2>&1",
        "getent group sudo wheel admin",
        "passwd -S root",
        "crontab -l",
        "stat -c '%a %U %G %n' \"$@\"",
        "find \"$@\" -maxdepth 3 -printf '%T@ %p\\n' 2>&1 | sort -n | tail -1",
        "getent passwd root; cat /etc/passwd",
        "test -e /var/run/reboot-required && cat /var/run/reboot-required.pkgs",
        "awk '/^Start-Date:/{print}' /var/log/apt/history.log",
        "cat /etc/crontab /etc/cron.d/* 2>/dev/null",
        "crontab -l -u root",
        "chage -l root",
        "ls -la /root 2>&1",
    ],
)
def test_lint_accepts_read_only_commands(good: str) -> None:
    assert mutations(good) == [], good


def test_lint_accepts_read_only_windows_commands() -> None:
    cmd = "Get-ItemProperty -Path 'HKLM:\\SOFTWARE' | Select-Object -Property X | ConvertTo-Json"
    assert mutations(cmd, Platform.WINDOWS) == []


def test_every_check_command_is_read_only() -> None:
    checks = load_checks()
    assert checks, "no checks were loaded"
    offenders = {
        f"{c.id}:{name}:{p.value}": mutations(cmd.line, p)
        for c in checks
        for p in c.platforms
        for name, cmd in c.collect.items()
        if mutations(cmd.line, p)
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("ldapmodify -f change.ldif", "not an LDAP search"),
        ("ldapsearch -b x -s sub '(cn=*)' cn -E sync", "not an LDAP search"),
        ("ldapsearch -b '{defaultNamingContext}' -s sub '(objectClass=*)'", "names no attributes"),
        ("ldapsearch -b x -s sub '(objectClass=computer)' cn ms-Mcs-AdmPwd", "ms-Mcs-AdmPwd"),
        ("ldapsearch -b x -s sub '(objectClass=computer)' msLAPS-Password", "msLAPS-Password"),
        ("ldapsearch -b x -s sub '(unicodePwd=a*)' cn", "unicodepwd"),
        ("ldapsearch -b x -s sub '(objectClass=*)' msFVE-RecoveryPassword", "msFVE"),
    ],
)
def test_a_directory_command_is_a_search_that_reads_no_secret(line: str, why: str) -> None:
    found = mutations(line, Platform.DIRECTORY)
    assert found and why.lower() in " ".join(found).lower(), found


def test_the_directory_searches_of_the_checks_are_accepted() -> None:
    line = "ldapsearch -b '{defaultNamingContext}' -s sub '(objectClass=computer)' cn msLAPS-PasswordExpirationTime"
    assert mutations(line, Platform.DIRECTORY) == []
