/*
 * archive_extract(): the other half of archive.h, unpacking a code archive
 * into a run directory without ever writing outside it.
 */
#include "archive/archive.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include "util/util.h"

/* An absolute name or a ".." component would land outside the directory. */
static int name_escapes(const char *name)
{
	const char *p = name;

	if (*name == '/')
		return 1;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

/*
 * Rebases an entry's path (and a hard link's target) under root. We do not
 * chdir() into the directory: the process may run other threads.
 */
static int rebase_entry(struct archive_entry *e, const char *root, const char *tarball)
{
	const char *name = archive_entry_pathname(e);
	const char *hard = archive_entry_hardlink(e);
	char *p;

	if (!name || !*name)
		return err_set("cannot extract '%s': an entry has no name", tarball);
	if (name_escapes(name) || (hard && name_escapes(hard)))
		return err_set(
			"cannot extract '%s': entry '%s' would be written outside the directory",
			tarball, name);
	p = xstrfmt("%s/%s", root, name);
	archive_entry_copy_pathname(e, p);
	free(p);
	if (hard) {
		p = xstrfmt("%s/%s", root, hard);
		archive_entry_copy_hardlink(e, p);
		free(p);
	}
	return 0;
}

static int copy_data(struct archive *in, struct archive *out, const char *tarball, const char *name)
{
	const void *block;
	size_t size;
	la_int64_t offset;
	int r;

	while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, block, size, offset) < ARCHIVE_OK)
			return err_set("cannot write '%s': %s", name, archive_error_string(out));
	}
	if (r != ARCHIVE_EOF)
		return err_set("cannot read '%s' from '%s': %s", name, tarball,
			       archive_error_string(in));
	return 0;
}

static int extract_entries(struct archive *in, struct archive *out, const char *tarball,
			   const char *root)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		char *name = xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");

		r = rebase_entry(e, root, tarball);
		if (!r && archive_write_header(out, e) < ARCHIVE_OK)
			r = err_set("cannot extract '%s': %s", name, archive_error_string(out));
		if (!r && archive_entry_size(e) > 0)
			r = copy_data(in, out, tarball, name);
		if (!r && archive_write_finish_entry(out) < ARCHIVE_OK)
			r = err_set("cannot extract '%s': %s", name, archive_error_string(out));
		free(name);
		if (r)
			return -1;
	}
	if (r != ARCHIVE_EOF)
		return err_set("cannot read '%s': %s", tarball, archive_error_string(in));
	return 0;
}

int archive_extract(const char *tarball, const char *dir)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	char root[PATH_MAX];
	int ret = -1;

	/*
	 * A resolved root has no symlinks and no "..", so the SECURE flags
	 * only ever judge what the archive itself creates.
	 */
	if (!realpath(dir, root)) {
		err_set("cannot extract into '%s': %s", dir, strerror(errno));
		goto out;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if (archive_read_open_filename(in, tarball, 65536) != ARCHIVE_OK) {
		err_set("cannot open '%s': %s", tarball, archive_error_string(in));
		goto out;
	}
	if (extract_entries(in, out, tarball, root))
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK) {
		err_set("cannot extract '%s': %s", tarball, archive_error_string(out));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}
