#include "shell-quote.h"
