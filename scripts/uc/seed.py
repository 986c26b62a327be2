"""Create on a local Unity Catalog server what a grants policy names, so the policy can be tried there.

Usage: python scripts/uc/seed.py URL TOKEN_FILE POLICY DATA_DIR   (run by `scripts/uc-local seed [POLICY]`)

The work is lakectl.governance.uc_seed.seed (the demo's --with-services uses it too). Prints one line per
thing created; existing ones are left alone, so it is safe to run again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lakectl.core.errors import LakectlError
from lakectl.governance.policy import load_policy
from lakectl.governance.uc_seed import seed
from lakectl.services.uc import UcAdmin


def main(url: str, token_file: str, policy_file: str, data_dir: str) -> int:
    try:
        created = seed(load_policy(policy_file), UcAdmin(url, Path(token_file).read_text().strip()), Path(data_dir))
    except LakectlError as e:
        raise SystemExit(f"uc-local seed: {e.message}") from None
    for line in created:
        print(f"created {line}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__.split("\n\n")[1])
    sys.exit(main(*sys.argv[1:]))
