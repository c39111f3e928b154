#!/usr/bin/env bash
# Regenerates the token-authentication test keys of tests/token_auth.rs
# into this script's own directory. Needs openssl (1.1.1 or 3.x) and
# python3 (standard library only, for the JWKS).
#
#   rs256.key.pem    RSA 2048 private key, PKCS#1 ("RSA PRIVATE KEY"): signs RS256 tokens
#   rs256.pub.pem    its public key (SubjectPublicKeyInfo, "PUBLIC KEY")
#   es256.key.pem    P-256 private key, PKCS#8 ("PRIVATE KEY"): signs ES256 tokens
#   es256.cert.pem   a self-signed certificate holding its public key
#   jwks.json        both public keys as a JWKS (kid "rsa-1", "ec-1"), plus
#                    keys the gateway skips: one for encryption, one EdDSA
#
# TEST KEYS ONLY: the private keys are committed to a public repository.
set -euo pipefail
cd "$(dirname "$0")"

openssl genrsa -traditional -out rs256.key.pem 2048 2>/dev/null \
  || openssl genrsa -out rs256.key.pem 2048
openssl rsa -in rs256.key.pem -pubout -out rs256.pub.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out es256.key.pem
openssl req -new -x509 -key es256.key.pem -subj "/CN=tollgate-token-test" \
  -days 36500 -out es256.cert.pem

modulus=$(openssl rsa -in rs256.key.pem -noout -modulus | cut -d= -f2)
ec_spki=$(openssl pkey -in es256.key.pem -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
python3 - "$modulus" "$ec_spki" > jwks.json <<'PY'
import base64, json, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
n = bytes.fromhex(sys.argv[1])
point = bytes.fromhex(sys.argv[2])[-65:]   # SPKI of P-256 ends with the 65-byte point
assert point[0] == 4
keys = [
    {"kty": "RSA", "kid": "rsa-enc", "use": "enc", "n": b64(n), "e": "AQAB"},
    {"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "x": b64(bytes(32))},
    {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(n), "e": "AQAB"},
    {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])},
]
print(json.dumps({"keys": keys}, indent=2))
PY
