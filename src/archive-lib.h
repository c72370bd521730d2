/*
 * libarchive's <archive.h>. Our own src/archive.h shadows that name on the
 * include path, so this reaches past it to the system's. Include it as
 * <archive-lib.h>: #include_next then searches after src/.
 */
#ifndef ARCHIVE_LIB_H
#define ARCHIVE_LIB_H

#include_next <archive.h>
#include <archive_entry.h>

#endif
