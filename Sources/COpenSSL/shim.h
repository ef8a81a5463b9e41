#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/crypto.h>

// Function-like macros Swift cannot call, as small inline functions (no logic of their own).
static inline void sluice_OPENSSL_free(void *pointer) { OPENSSL_free(pointer); }
static inline long sluice_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline int sluice_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
// OSSL_PARAM_BLD keeps the key-name pointers it is given, so they must be static strings.
static inline const char *sluice_PARAM_RSA_N(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *sluice_PARAM_RSA_E(void) { return OSSL_PKEY_PARAM_RSA_E; }
static inline const char *sluice_PARAM_GROUP_NAME(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *sluice_PARAM_PUB_KEY(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline unsigned long sluice_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
static inline int sluice_MBSTRING_UTF8(void) { return MBSTRING_UTF8; }
