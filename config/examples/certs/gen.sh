#!/usr/bin/env bash
# Regenerates the demo certificates of config/examples/tls.toml, into this
# script's own directory. Needs only openssl (1.1.1 or 3.x).
#
#   server-ca.pem / server-ca.key          CA that signs the two server certificates
#   a.example.test.pem / .key              server certificate for a.example.test
#   b.example.test.pem / .key              server certificate for b.example.test
#   client-ca.pem / client-ca.key          CA that signs client certificates (mutual TLS, §4.5)
#   client.pem / client.key                client certificate, CN tollgate-demo-client
#
# DEMO KEYS ONLY: the private keys are committed to a public repository.
# Never use them, or anything they signed, outside a local demo.
#
# Every key is ECDSA P-256 (PKCS#8 PEM); every certificate is X.509 v3,
# valid for DAYS days from now. rustls/webpki is strict, so: CAs have
# basicConstraints critical CA:TRUE and keyUsage keyCertSign; leaves have
# basicConstraints CA:FALSE, a subjectAltName and an extendedKeyUsage.
set -euo pipefail

DAYS=3650 # ~10 years; the end date stays well before 2050 (UTCTime)
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One config file for every request and extension section: no dependency
# on the system's openssl.cnf.
cat >"$tmp/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:${ENV::SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
CNF
export SAN=unused # ${ENV::SAN} must be set whenever the file is read

key() { # key FILE: a new ECDSA P-256 private key
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
    chmod 600 "$1"
}

serial() { # a random positive 64-bit serial number
    echo "0x$(openssl rand -hex 8)"
}

ca() { # ca NAME CN: a self-signed CA certificate NAME.pem with key NAME.key
    key "$1.key"
    openssl req -new -x509 -config "$tmp/openssl.cnf" -extensions ca \
        -key "$1.key" -subj "/O=Tollgate demo/CN=$2" \
        -days "$DAYS" -set_serial "$(serial)" -sha256 -out "$1.pem"
}

leaf() { # leaf NAME CN SECTION CA: NAME.pem/.key signed by CA.pem/.key
    key "$1.key"
    openssl req -new -config "$tmp/openssl.cnf" \
        -key "$1.key" -subj "/O=Tollgate demo/CN=$2" -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$4.pem" -CAkey "$4.key" \
        -extfile "$tmp/openssl.cnf" -extensions "$3" \
        -days "$DAYS" -set_serial "$(serial)" -sha256 -out "$1.pem" 2>/dev/null
}

ca server-ca "Tollgate demo server CA"
for host in a.example.test b.example.test; do
    SAN=$host leaf "$host" "$host" server server-ca
done
ca client-ca "Tollgate demo client CA"
leaf client tollgate-demo-client client client-ca

rm -f -- *.csr *.srl
for cert in server-ca a.example.test b.example.test client-ca client; do
    echo "$cert.pem: $(openssl x509 -in "$cert.pem" -noout -subject -enddate | tr '\n' ' ')"
done
openssl verify -CAfile server-ca.pem a.example.test.pem b.example.test.pem
openssl verify -CAfile client-ca.pem client.pem
