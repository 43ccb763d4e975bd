package config

// ParseEnv is Parse with the environment given as a map, so tests do not
// depend on (or change) the process environment.
func ParseEnv(data []byte, source string, env map[string]string) (*Config, error) {
	return parse(data, source, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
}

// EnvVarNames lists the env override table's variables.
func EnvVarNames() []string {
	names := make([]string, len(envOverrides))
	for i, o := range envOverrides {
		names[i] = o.name
	}
	return names
}
