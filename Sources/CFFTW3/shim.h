#ifndef XUNXING_CFFTW3_SHIM_H
#define XUNXING_CFFTW3_SHIM_H
#include <fftw3.h>
#endif
