// Command tiltfile-check runs a Tiltfile without Tilt: the Tilt binary cannot be fetched where the tests run, but its
// language can. go.starlark.net is the Starlark interpreter Tilt itself embeds, so a Tiltfile that does not parse or
// run here does not under `tilt up` either. Tilt's builtins are stand-ins that check their arguments against Tilt's
// signatures (an unknown keyword or a missing argument fails as it would in Tilt) and record each call; the calls are
// printed as JSON for the test (packages/devstack/test/manifests.test.ts) to check against the repository: every
// image, manifest, file and resource the Tiltfile names must exist. Nothing is built or deployed.
//
// Usage: tiltfile-check <Tiltfile>  (paths in the output are as written in the Tiltfile, relative to its folder)
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// param is one parameter of a Tilt builtin; required ones come first, as in Tilt's own signatures.
type param struct {
	name     string
	required bool
}

func req(name string) param { return param{name, true} }
func opt(name string) param { return param{name, false} }

// signature lists the parameters a builtin accepts; extraKwargs passes unknown keywords on (as **kwargs does).
type signature struct {
	params      []param
	extraKwargs bool
}

// The builtins of Tilt's API (docs.tilt.dev/api.html) this repository's Tiltfile may use, with their parameters.
var builtins = map[string]signature{
	"allow_k8s_contexts": {params: []param{req("contexts")}},
	"docker_build": {params: []param{
		req("ref"), req("context"), opt("build_args"), opt("dockerfile"), opt("dockerfile_contents"), opt("live_update"),
		opt("match_in_env_vars"), opt("ignore"), opt("only"), opt("entrypoint"), opt("target"), opt("ssh"),
		opt("network"), opt("secret"), opt("extra_tag"), opt("container_args"), opt("cache_from"), opt("pull"),
		opt("platform"), opt("extra_hosts"),
	}},
	"k8s_yaml":  {params: []param{req("yaml"), opt("allow_duplicates")}},
	"kustomize": {params: []param{req("pathToDir"), opt("kustomize_bin"), opt("flags")}},
	"k8s_resource": {params: []param{
		opt("workload"), opt("new_name"), opt("port_forwards"), opt("extra_pod_selectors"), opt("trigger_mode"),
		opt("resource_deps"), opt("objects"), opt("auto_init"), opt("pod_readiness"), opt("links"), opt("labels"),
		opt("discovery_strategy"),
	}},
	"local_resource": {params: []param{
		req("name"), opt("cmd"), opt("deps"), opt("trigger_mode"), opt("resource_deps"), opt("ignore"), opt("auto_init"),
		opt("serve_cmd"), opt("cmd_bat"), opt("serve_cmd_bat"), opt("allow_parallel"), opt("links"), opt("tags"),
		opt("env"), opt("serve_env"), opt("readiness_probe"), opt("dir"), opt("serve_dir"), opt("labels"),
	}},
	"local":        {params: []param{req("command"), opt("quiet"), opt("command_bat"), opt("echo_off"), opt("env"), opt("dir"), opt("stdin")}},
	"sync":         {params: []param{req("local_path"), req("remote_path")}},
	"run":          {params: []param{req("cmd"), opt("trigger"), opt("echo_off")}},
	"fall_back_on": {params: []param{req("files")}},
	"port_forward": {params: []param{req("local_port"), opt("container_port"), opt("name"), opt("link_path"), opt("host")}},
	"link":         {params: []param{req("url"), opt("name")}},
	"watch_file":   {params: []param{req("path")}},
}

// Extensions loaded with load('ext://…'): Tilt fetches them from its extensions repository at `tilt up`.
var extensions = map[string]map[string]signature{
	// github.com/tilt-dev/tilt-extensions/restart_process: docker_build plus a wrapper that restarts the entrypoint
	// after a live update; its other keywords go to docker_build.
	"ext://restart_process": {
		"docker_build_with_restart": {params: []param{
			req("ref"), req("context"), req("entrypoint"), req("live_update"), opt("base_suffix"), opt("restart_file"),
			opt("trigger"), opt("exit_policy"),
		}, extraKwargs: true},
	},
}

// call is one recorded builtin call: its name and its arguments by parameter name.
type call struct {
	Builtin string         `json:"builtin"`
	Args    map[string]any `json:"args"`
}

// recorded is what a builtin returns (sync(...), kustomize(...)): a value that prints as the call that made it.
type recorded struct{ call call }

func (r *recorded) String() string        { return r.call.Builtin + "(…)" }
func (r *recorded) Type() string          { return r.call.Builtin }
func (r *recorded) Freeze()               {}
func (r *recorded) Truth() starlark.Bool  { return starlark.True }
func (r *recorded) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", r.Type()) }

var calls []call

func stub(name string, sig signature) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) > len(sig.params) {
			return nil, fmt.Errorf("%s: got %d positional arguments, takes at most %d", name, len(args), len(sig.params))
		}
		bound := map[string]any{}
		for i, arg := range args {
			value, err := toJSON(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, sig.params[i].name, err)
			}
			bound[sig.params[i].name] = value
		}
		for _, kv := range kwargs {
			key := string(kv[0].(starlark.String))
			if _, twice := bound[key]; twice {
				return nil, fmt.Errorf("%s: %s given twice", name, key)
			}
			if !sig.extraKwargs && !knows(sig, key) {
				return nil, fmt.Errorf("%s: unexpected keyword argument %q", name, key)
			}
			value, err := toJSON(kv[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, key, err)
			}
			bound[key] = value
		}
		for _, p := range sig.params {
			if _, given := bound[p.name]; p.required && !given {
				return nil, fmt.Errorf("%s: missing argument %s", name, p.name)
			}
		}
		c := call{Builtin: name, Args: bound}
		calls = append(calls, c)
		return &recorded{c}, nil
	})
}

func knows(sig signature, key string) bool {
	for _, p := range sig.params {
		if p.name == key {
			return true
		}
	}
	return false
}

func toJSON(v starlark.Value) (any, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.Int:
		n, ok := v.Int64()
		if !ok {
			return nil, fmt.Errorf("integer out of range: %s", v)
		}
		return n, nil
	case starlark.String:
		return string(v), nil
	case *recorded:
		return v.call, nil
	case *starlark.List:
		return sequence(v)
	case starlark.Tuple:
		return sequence(v)
	case *starlark.Dict:
		out := map[string]any{}
		for _, item := range v.Items() {
			key, ok := item[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict key %s is not a string", item[0])
			}
			value, err := toJSON(item[1])
			if err != nil {
				return nil, err
			}
			out[string(key)] = value
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value %s (%s)", v, v.Type())
}

func sequence(v starlark.Iterable) ([]any, error) {
	out := []any{}
	it := v.Iterate()
	defer it.Done()
	var item starlark.Value
	for it.Next(&item) {
		value, err := toJSON(item)
		if err != nil {
			return nil, err
		}
		out = append(out, value)
	}
	return out, nil
}

func predeclared(sigs map[string]signature) starlark.StringDict {
	names := make([]string, 0, len(sigs))
	for name := range sigs {
		names = append(names, name)
	}
	sort.Strings(names)
	dict := starlark.StringDict{}
	for _, name := range names {
		dict[name] = stub(name, sigs[name])
	}
	return dict
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tiltfile-check <Tiltfile>")
		os.Exit(2)
	}
	thread := &starlark.Thread{
		Name: "Tiltfile",
		Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			sigs, ok := extensions[module]
			if !ok {
				return nil, fmt.Errorf("load(%q): not an extension this check knows; add its signature to tilt/tiltfile-check", module)
			}
			return predeclared(sigs), nil
		},
		Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(os.Stderr, msg) },
	}
	// Tilt's dialect: top-level if/for, while, sets, and reassigning globals are all allowed.
	options := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	if _, err := starlark.ExecFileOptions(options, thread, os.Args[1], nil, predeclared(builtins)); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			fmt.Fprintln(os.Stderr, strings.TrimSpace(evalErr.Backtrace()))
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(map[string]any{"calls": calls}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
