#!/usr/bin/env bash
# Makes the local cluster's audit checkpoint key once (Ed25519, PKCS#8 PEM), as the devstack does per data folder: kept
# across `tilt up`s, so checkpoints signed earlier still verify; never committed (manifests/overlays/dev/.gitignore).
set -euo pipefail
key=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/manifests/overlays/dev/audit-checkpoint-key.pem
[ -s "$key" ] || { umask 077 && openssl genpkey -algorithm ed25519 -out "$key"; }
