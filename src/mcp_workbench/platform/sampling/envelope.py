"""The plaintext the guard route hands the SDK to seal as ``requestState``, and its size.

The envelope holds the round number, when the call started, the keys of the requests the
client is answering, and the algorithm's state. It is JSON, compressed and base64-encoded:
the SDK puts the string inside its own JSON claims before sealing, where a raw JSON string
would have every quote escaped, and the text an algorithm keeps (drafts, context) compresses
several times over.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.platform.sampling.core import State

_PREFIX = "wb1."
# What the SDK adds around our string before sealing: its claims (version, times, method, tool
# name, argument digest, audience, principal tag) and the AES-GCM key id, nonce and tag.
_SDK_CLAIMS_BYTES = 400
_SDK_SEAL_BYTES = 4 + 12 + 16


@dataclass(frozen=True)
class Envelope:
    round: int
    started: float
    keys: tuple[str, ...]
    state: State

    def encode(self) -> str:
        plain = json.dumps(
            {"r": self.round, "t": self.started, "k": list(self.keys), "s": self.state},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8", "surrogatepass")
        return _PREFIX + base64.urlsafe_b64encode(zlib.compress(plain, 1)).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Envelope:
        """The envelope sealed in an earlier round. The SDK has already checked it is ours and
        unaltered, so a failure here means a server of another version sealed it."""
        try:
            if not text.startswith(_PREFIX):
                raise ValueError("unknown prefix")
            raw = zlib.decompress(base64.urlsafe_b64decode(text[len(_PREFIX) :]))
            data: Any = json.loads(raw.decode("utf-8", "surrogatepass"))
            return cls(int(data["r"]), float(data["t"]), tuple(str(k) for k in data["k"]), dict(data["s"]))
        except (ValueError, KeyError, TypeError, zlib.error) as exc:
            raise InvalidInput(
                "the state of this call's earlier round cannot be read by this server (another version made it)",
                recovery_steps=["Call the tool again from the start (a new call, without the earlier round's state)."],
                details={"reason": type(exc).__name__},
            ) from None


def sealed_size(plaintext: str) -> int:
    """An upper estimate of the ``requestState`` the client receives for ``plaintext``."""
    payload = len(plaintext) + _SDK_CLAIMS_BYTES + _SDK_SEAL_BYTES
    return len("v1.") + math.ceil(payload * 4 / 3)
