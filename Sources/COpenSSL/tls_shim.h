// Functions for OpenSSL's function-like TLS macros, which Swift cannot import.
#ifndef SLUICE_TLS_SHIM_H
#define SLUICE_TLS_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline int sluice_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int sluice_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long sluice_SSL_set_mode(SSL *ssl, long mode) { return SSL_set_mode(ssl, mode); }
static inline long sluice_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline void sluice_SSL_CTX_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); }
static inline int sluice_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
static inline int sluice_TLS1_3_VERSION(void) { return TLS1_3_VERSION; }
static inline long sluice_SSL_MODE_ENABLE_PARTIAL_WRITE(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long sluice_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline long sluice_SSL_MODE_RELEASE_BUFFERS(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline uint64_t sluice_SSL_OP_server_defaults(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE
        | SSL_OP_NO_TICKET;
}

/// The subject of `cert` as an RFC 2253 string (UTF-8 kept as is, as Java's X500Principal prints
/// it), written to `out`; returns its length, or -1.
static inline int sluice_X509_subject_rfc2253(X509 *cert, char *out, int cap) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return -1;
    unsigned long flags = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, flags) < 0) {
        BIO_free(bio);
        return -1;
    }
    int n = BIO_read(bio, out, cap);
    BIO_free(bio);
    return n < 0 ? 0 : n;
}
#endif
