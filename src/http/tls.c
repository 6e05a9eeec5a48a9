/*
 * tls.c - PEM files read whole (with a size cap) and tried on a daemon
 * without a listening socket, which loads them exactly as the real one will.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http/tls.h"

bool http_tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

static enum status read_pem(const char *path, const char *what, char **out, struct scim_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return scim_error_set(err, ERR_IO, "cannot read the TLS %s '%s': %s", what, path,
                              strerror(errno));
    struct buf b;
    buf_init(&b, HTTP_TLS_MAX_PEM_BYTES);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || b.failed || b.len == 0) {
        buf_release(&b);
        return scim_error_set(err, ERR_IO, "cannot read the TLS %s '%s': %s", what, path,
                              failed       ? "read error"
                              : b.len == 0 ? "empty"
                                           : "larger than 1 MiB");
    }
    *out = buf_take(&b);
    return *out ? OK : scim_error_set(err, ERR_NOMEM, "out of memory");
}

static void ignore_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

static enum MHD_Result no_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)cls, (void)conn, (void)url, (void)method, (void)version, (void)data, (void)data_size,
        (void)con_cls;
    return MHD_NO;
}

enum status http_tls_load(const char *cert_file, const char *key_file, struct http_tls *tls,
                          struct scim_error *err)
{
    memset(tls, 0, sizeof(*tls));
    if (!http_tls_supported())
        return scim_error_set(err, ERR_UNSUPPORTED,
                              "this libmicrohttpd has no TLS; put a reverse proxy in front");
    enum status rc = read_pem(cert_file, "certificate", &tls->cert_pem, err);
    if (rc == OK)
        rc = read_pem(key_file, "key", &tls->key_pem, err);
    if (rc != OK) {
        http_tls_release(tls);
        return rc;
    }
    /* no listening socket, no thread: only GnuTLS loading the pair */
    struct MHD_Daemon *probe =
        MHD_start_daemon(MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, no_request, NULL,
                         MHD_OPTION_EXTERNAL_LOGGER, ignore_log, NULL, MHD_OPTION_HTTPS_MEM_CERT,
                         tls->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem, MHD_OPTION_END);
    if (probe == NULL) {
        http_tls_release(tls);
        return scim_error_set(err, ERR_USAGE,
                              "the TLS certificate '%s' and key '%s' are not a PEM certificate "
                              "and its unencrypted private key",
                              cert_file, key_file);
    }
    MHD_stop_daemon(probe);
    return OK;
}

void http_tls_release(struct http_tls *tls)
{
    free(tls->cert_pem);
    if (tls->key_pem)
        memset(tls->key_pem, 0, strlen(tls->key_pem));
    free(tls->key_pem);
    tls->cert_pem = tls->key_pem = NULL;
}
