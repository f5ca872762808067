/* payment.c - online payment of fees (DOMAIN A8). Being built. */
#include "wk.h"
