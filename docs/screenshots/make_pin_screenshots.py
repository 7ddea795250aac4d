"""Screenshots of a pinned certificate in the window: the strip's warning, and the review dialog after
the server presented another certificate. A fake account stands in for the server (the warning comes
from the account's pin, not from the protocol).

Run under Xvfb with a keyring session, like ``make_screenshots.py``::

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" \\
        .venv/bin/python docs/screenshots/make_pin_screenshots.py'

Writes pinned-certificate.png and certificate-changed.png next to this file.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication

from aggregator.accounts.config import AccountStore
from aggregator.accounts.trust import pin_fingerprint
from aggregator.api import CERTIFICATE_CHANGED, CertificateDetails, Sphere
from aggregator.policy import PolicyEngine
from protocols.fake.server import FakeServer
from ui.certificate_dialog import CertificateDialog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import fake_account, main_window, serving, settle, shoot, shoot_over, wait

PIN = "3F:9A:11:C2:7E:05:D4:88:B1:6C:20:FA:93:4E:7D:0B:A5:58:E2:19:C6:3D:71:8F:04:BB:6A:E9:52:17:CD:80"
NEW = "8E:21:57:D0:4A:B9:6F:13:C8:72:0D:E5:99:3B:A4:16:5C:F1:28:07:BD:64:E3:4F:91:0A:D7:36:7B:C2:58:1E"


def main() -> int:
    app = QApplication(sys.argv[:1])
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    server.add_user("bob@fake.test", "pw")
    home = Path(tempfile.mkdtemp(prefix="aggregator-pin-shots-"))
    with (
        serving(server),
        fake_account(home, server, alice, "alice-pw", label="Club server", sphere=Sphere.PERSONAL) as (
            paths,
            account_id,
        ),
    ):
        pin_fingerprint(AccountStore(paths.accounts_file), PolicyEngine(), paths, account_id, PIN)
        with main_window(paths) as session:
            window = session.window
            strip = window.accounts_strip
            wait(app, lambda: "connected" in strip.state_text(account_id), "the account to connect")
            wait(app, lambda: account_id in strip.pin_warnings, "the pin's warning")
            settle(app, 0.5)
            shoot(window, "pinned-certificate.png")

            changed = CertificateDetails(
                host="chat.club.example:5222",
                problem=f"{CERTIFICATE_CHANGED}: this account trusts only SHA-256 {PIN}",
                subject="CN=chat.club.example",
                issuer="CN=chat.club.example",
                not_before=datetime(2026, 11, 30, tzinfo=UTC),
                not_after=datetime(2027, 11, 30, tzinfo=UTC),
                fingerprint_sha256=NEW,
                pem="-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            )
            dialog = CertificateDialog(session.ctx, account_id, "Club server", changed, window)
            dialog.show()
            wait(app, dialog.isVisible, "the certificate dialog")
            settle(app, 0.5)
            shoot_over(app, window, dialog, "certificate-changed.png")
            dialog.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
