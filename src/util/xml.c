#include "util/xml.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int xml_parse(xmlDocPtr *out, const char *data, size_t len)
{
	const xmlError *e;

	*out = NULL;
	if (len > 0x7fffffff)
		return err_set("XML response too large (%zu bytes)", len);
	*out = xmlReadMemory(data, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				     XML_PARSE_NOBLANKS);
	if (*out)
		return 0;
	e = xmlGetLastError();
	return err_set("malformed XML response%s%s", e && e->message ? ": " : "",
		       e && e->message ? e->message : "");
}

void xml_free(xmlDocPtr doc)
{
	if (doc)
		xmlFreeDoc(doc);
}

xmlNodePtr xml_root(xmlDocPtr doc)
{
	return doc ? xmlDocGetRootElement(doc) : NULL;
}

static int is_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (!parent)
		return NULL;
	for (n = parent->children; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

xmlNodePtr xml_next(xmlNodePtr node, const char *name)
{
	xmlNodePtr n;

	if (!node)
		return NULL;
	for (n = node->next; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

xmlNodePtr xml_path(xmlNodePtr from, const char *path)
{
	char *copy = xstrdup(path), *save = NULL, *part;
	xmlNodePtr n = from;

	for (part = strtok_r(copy, "/", &save); part && n; part = strtok_r(NULL, "/", &save))
		n = xml_child(n, part);
	free(copy);
	return n;
}

char *xml_text(xmlNodePtr node)
{
	xmlChar *t;
	char *s;

	if (!node)
		return NULL;
	t = xmlNodeGetContent(node);
	s = xstrdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

char *xml_path_text(xmlNodePtr from, const char *path)
{
	return xml_text(xml_path(from, path));
}
