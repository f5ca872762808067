/* catimport.c - catalogue import from the national procedure database (DOMAIN X2). Being built. */
#include "wk.h"
