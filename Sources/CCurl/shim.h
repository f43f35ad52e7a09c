// CCurl: Debian's libcurl (libcurl4-openssl-dev) plus typed static-inline wrappers for the variadic
// curl_easy_setopt / curl_easy_getinfo, which Swift cannot call. Only JSONRPC imports this.
// Each wrapper fixes the C type of the vararg so the ABI is right (long, char*, void*, curl_off_t,
// function pointers); the Swift side picks the wrapper that matches the option's documented type.
#ifndef EXPANSION_KEEPER_CCURL_SHIM_H
#define EXPANSION_KEEPER_CCURL_SHIM_H
#include <curl/curl.h>

/// The write/header callback type (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION).
typedef size_t (*ek_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
/// The progress callback type (CURLOPT_XFERINFOFUNCTION); a non-zero return aborts the transfer.
typedef int (*ek_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                         curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode ek_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ek_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
/// For string options; libcurl copies strings (except CURLOPT_POSTFIELDS, which this project never sets).
static inline CURLcode ek_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ek_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ek_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ek_curl_setopt_data_callback(CURL *handle, CURLoption option, ek_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ek_curl_setopt_xferinfo_callback(CURL *handle, ek_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}
static inline CURLcode ek_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode ek_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
