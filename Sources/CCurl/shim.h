#ifndef XUNXING_CCURL_SHIM_H
#define XUNXING_CCURL_SHIM_H
#include <curl/curl.h>

/* Swift cannot call C variadic functions: curl_easy_setopt and curl_easy_getinfo are wrapped here,
 * one typed function per argument kind. */

static inline CURLcode xx_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode xx_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode xx_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode xx_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode xx_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*xx_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode xx_curl_setopt_write_function(CURL *handle, xx_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode xx_curl_setopt_read_function(CURL *handle, xx_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode xx_curl_setopt_header_function(CURL *handle, xx_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

typedef int (*xx_curl_seek_callback)(void *context, curl_off_t offset, int origin);

static inline CURLcode xx_curl_setopt_seek_function(CURL *handle, xx_curl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

typedef int (*xx_curl_xferinfo_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                         curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode xx_curl_setopt_xferinfo_function(CURL *handle, xx_curl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

/* CURL_GLOBAL_DEFAULT is a compound macro that does not import into Swift. */
static inline CURLcode xx_curl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

static inline CURLcode xx_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode xx_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
