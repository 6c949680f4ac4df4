"""``ACCEPT_SHIPPED``: the scan/rescore arguments of a policy that accepts the shipped
endoflife.date snapshot at any date (``accept_shipped_endoflife.yml`` says why)."""

from pathlib import Path

POLICY = Path(__file__).with_name("accept_shipped_endoflife.yml")
ACCEPT_SHIPPED = ["--policy", str(POLICY)]
