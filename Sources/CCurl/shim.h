// CCurl: Debian's libcurl (libcurl4-openssl-dev) plus typed static-inline wrappers for the variadic
// curl_easy_setopt / curl_easy_getinfo, which Swift cannot call. Only JSONRPC imports this.
#ifndef EXPANSION_KEEPER_CCURL_SHIM_H
#define EXPANSION_KEEPER_CCURL_SHIM_H
#include <curl/curl.h>
#endif
