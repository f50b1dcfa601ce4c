// libyaml (Debian libyaml-dev), the YAML 1.1 parser and emitter behind FilamentYAML.
#include <yaml.h>
