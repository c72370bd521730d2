#include "s3-objects.h"
