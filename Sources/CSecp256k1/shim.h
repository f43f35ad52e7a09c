// CSecp256k1: Debian's libsecp256k1 (0.2+) with the recovery module. Only EthereumSigning imports this.
#include <secp256k1.h>
#include <secp256k1_recovery.h>
