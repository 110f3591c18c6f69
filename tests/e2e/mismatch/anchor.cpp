// Gives the mismatch library an object file of its own.
#include "service.h"
