package flagenv

import (
	"flag"
	"fmt"
)

// Parse binds each flag named in env to its variable (appending "(env
// NAME)" to its usage), parses args, then sets every flag that was not on
// the command line from its variable, if the variable is set. lookup is
// os.LookupEnv outside tests.
func Parse(fs *flag.FlagSet, args []string, env map[string]string, lookup func(string) (string, bool)) error {
	for name, v := range env {
		f := fs.Lookup(name)
		if f == nil {
			return fmt.Errorf("flagenv: no flag %q", name)
		}
		f.Usage += " (env " + v + ")"
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range env {
		if set[name] {
			continue
		}
		if val, ok := lookup(v); ok {
			if err := fs.Set(name, val); err != nil {
				return fmt.Errorf("environment %s=%q: %w", v, val, err)
			}
		}
	}
	return nil
}
