#ifndef XUNXING_CCFITSIO_SHIM_H
#define XUNXING_CCFITSIO_SHIM_H
#include <fitsio.h>
#endif
