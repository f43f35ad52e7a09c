// COpenSSL: libcrypto's EVP digest API, used only by KeeperBench as the same-run reference for Keccak-256
// (OpenSSL's SHA3-256 runs the same Keccak-f[1600] permutation; only the padding byte differs).
#include <openssl/evp.h>
