#include "run-record.h"
