#include <zstd.h>
#include <zstd_errors.h>  // ZSTD_getErrorCode: tell "output too small" from corruption
