#include "CGPU.h"
