/* image: the AMI as train.image names it (see image.h). */
#include "services/image.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "services/ssm.h"

#define AL2023_PARAMETER  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
#define DLAMI_PATH	  "/aws/service/deeplearning/ami/"
#define PYTORCH_PREFIX	  "oss-nvidia-driver-gpu-pytorch-"
#define PYTORCH_SUFFIX	  "-amazon-linux-2023/latest/ami-id"
#define BASE_PARAMETER	  "base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"
#define IMAGE_SETTING_FIX "train.image takes pytorch, base, al2023 or an AMI id (ami-...)"

static int is_ami_id(const char *s)
{
	size_t n;

	if (strncmp(s, "ami-", 4))
		return 0;
	for (n = 4; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n >= 12 && n <= 21;
}

int image_parse(enum image_kind *out, const char *value)
{
	if (!value || !*value)
		*out = IMAGE_DEFAULT;
	else if (!strcmp(value, "pytorch"))
		*out = IMAGE_PYTORCH;
	else if (!strcmp(value, "base"))
		*out = IMAGE_BASE;
	else if (!strcmp(value, "al2023"))
		*out = IMAGE_AL2023;
	else if (is_ami_id(value))
		*out = IMAGE_ID;
	else
		return err_set("unknown image '%s': %s", value, IMAGE_SETTING_FIX);
	return 0;
}

/* The <version> of .../oss-nvidia-driver-gpu-pytorch-<version>-amazon-linux-2023/latest/ami-id. */
static int pytorch_version(const char **out, size_t *out_len, const char *name)
{
	const char *base = strrchr(name, '/'), *v, *end;
	size_t i;

	/* the name is .../<ami-type>/latest/ami-id: the ami-type is the third part from the end */
	v = strstr(name, "/" PYTORCH_PREFIX);
	if (!base || !v || strcmp(base, "/ami-id"))
		return 0;
	v += strlen("/" PYTORCH_PREFIX);
	end = strstr(v, PYTORCH_SUFFIX);
	if (!end || strcmp(end, PYTORCH_SUFFIX) || end == v)
		return 0;
	for (i = 0; v + i < end; i++)
		if (!isdigit((unsigned char)v[i]) && v[i] != '.')
			return 0;
	*out = v;
	*out_len = (size_t)(end - v);
	return 1;
}

/* Numerically, part by part: 2.10 > 2.9 > 2; <0, 0, >0. */
static int version_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *ae = a + alen, *be = b + blen;

	while (a < ae || b < be) {
		unsigned long x = 0, y = 0;

		for (; a < ae && *a != '.'; a++)
			x = x * 10 + (unsigned long)(*a - '0');
		for (; b < be && *b != '.'; b++)
			y = y * 10 + (unsigned long)(*b - '0');
		if (x != y)
			return x < y ? -1 : 1;
		if (a < ae)
			a++;
		if (b < be)
			b++;
	}
	return 0;
}

int image_newest_pytorch(char **out_version, const struct strvec *names)
{
	const char *best = NULL, *v;
	size_t best_len = 0, len, i;
	int found = -1;

	*out_version = NULL;
	for (i = 0; i < names->nr; i++) {
		if (!pytorch_version(&v, &len, names->v[i]))
			continue;
		if (found < 0 || version_cmp(v, len, best, best_len) > 0) {
			best = v;
			best_len = len;
			found = (int)i;
		}
	}
	if (found >= 0)
		*out_version = xstrndup(best, best_len);
	return found;
}

static int resolve_al2023(struct image *out, struct aws_client *c, const char *arch)
{
	char *name = xstrfmt(AL2023_PARAMETER "%s", arch);
	int r = aws_checks_ssm_parameter(&out->ami, c, name);

	if (r) {
		char *e = xstrdup(err_msg());

		err_set("cannot find the Amazon Linux 2023 AMI (%s): %s", name, e);
		err_hint("name an AMI instead: git config train.image <ami-id>");
		free(e);
	} else {
		out->name = xstrfmt("Amazon Linux 2023, %s", arch);
	}
	free(name);
	return r ? -1 : 0;
}

static int resolve_dlami(struct image *out, struct aws_client *c, const char *arch)
{
	struct strvec names = STRVEC_INIT, values = STRVEC_INIT;
	char *path = xstrfmt(DLAMI_PATH "%s", arch), *version = NULL, *want = NULL;
	size_t i;
	int ret = -1, at = -1;

	if (ssm_parameters_by_path(&names, &values, c, path)) {
		char *e = xstrdup(err_msg());

		err_set("cannot list the Deep Learning AMIs (%s): %s", path, e);
		err_hint("name an AMI instead: git config train.image <ami-id>");
		free(e);
		goto out;
	}
	if (out->kind == IMAGE_PYTORCH) {
		at = image_newest_pytorch(&version, &names);
	} else {
		want = xstrfmt("%s/" BASE_PARAMETER, path);
		for (i = 0; i < names.nr && at < 0; i++)
			if (!strcmp(names.v[i], want))
				at = (int)i;
	}
	if (at < 0) {
		err_set("no %s Deep Learning AMI on Amazon Linux 2023 for %s under %s in %s",
			out->kind == IMAGE_PYTORCH ? "PyTorch" : "Base", arch, path,
			c->settings.region ? c->settings.region : "us-east-1");
		err_hint("name an AMI instead: git config train.image <ami-id>");
		goto out;
	}
	out->ami = xstrdup(values.v[at]);
	out->dlami = 1;
	if (out->kind == IMAGE_PYTORCH) {
		out->name = xstrfmt("PyTorch %s Deep Learning AMI, Amazon Linux 2023, %s", version,
				    arch);
		out->python = IMAGE_PYTORCH_PYTHON;
		out->framework = "torch";
	} else {
		out->name = xstrfmt("Base Deep Learning AMI, Amazon Linux 2023, %s", arch);
	}
	ret = 0;
out:
	free(want);
	free(version);
	free(path);
	strvec_clear(&names);
	strvec_clear(&values);
	return ret;
}

int image_resolve(struct image *out, struct aws_client *c, const char *value,
		  const struct aws_instance_type *t)
{
	const char *arch = aws_instance_type_arch(t);

	memset(out, 0, sizeof(*out));
	if (image_parse(&out->kind, value))
		return -1;
	if (out->kind == IMAGE_DEFAULT)
		out->kind = t->gpus > 0 ? IMAGE_PYTORCH : IMAGE_AL2023;
	switch (out->kind) {
	case IMAGE_ID:
		out->ami = xstrdup(value);
		out->name = xstrdup("train.image");
		return 0;
	case IMAGE_AL2023:
		return resolve_al2023(out, c, arch);
	default:
		return resolve_dlami(out, c, arch);
	}
}

void image_release(struct image *im)
{
	free(im->ami);
	free(im->name);
	memset(im, 0, sizeof(*im));
}

int image_volume_gib(const struct image *im, int root_gib)
{
	if (root_gib <= 0)
		return 0; /* the AMI's default, whatever it is */
	return root_gib + (im->dlami ? IMAGE_ROOM_GPU_GIB : IMAGE_ROOM_GIB);
}
