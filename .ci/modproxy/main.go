// Command modproxy writes a file-system GOPROXY that serves the modules of
// this repository, made from its working tree, as a module proxy would serve
// them once they are tagged: the core module github.com/wxmp/miniauth and
// each nested module whose path is the core's path joined with its directory
// (adapters/ginauth, ...), every one at one version.
//
// Usage:
//
//	go run . -repo ../.. -out /tmp/proxy [-version vX.Y.Z]
//
// Without -version it serves the version that the nested modules require of
// the core, which they must all require alike, and which must be a version a
// release can have: a canonical vX.Y.Z, neither v0.0.0 (the placeholder of a
// module that was never tagged, which no proxy serves) nor a pseudo-version.
// With -version it serves that version and checks nothing of the
// requirements: .ci/consumer.sh then shows what a user meets when they are
// wrong. It prints the version it serves on standard output.
//
// The files of a module are those git knows or would add (tracked files and
// untracked ones that .gitignore does not exclude) as they are on disk; the
// zips are made with golang.org/x/mod/zip, which leaves out the files of
// nested modules and refuses what a proxy would refuse (bad names, sizes).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// core is the path of the repository's root module.
const core = "github.com/wxmp/miniauth"

func main() {
	repo := flag.String("repo", ".", "the repository's working tree")
	out := flag.String("out", "", "the directory to write the proxy into (GOPROXY=file://<out>)")
	version := flag.String("version", "", "the version to serve (default: the one the nested modules require of the core)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	v, err := run(*repo, *out, *version)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	fmt.Println(v)
}

// mod is one module of the repository.
type mod struct {
	dir   string // slash path relative to the repository root; "." for the core
	path  string // module path
	gomod []byte // go.mod as it is in the working tree
	file  *modfile.File
}

func run(repo, out, version string) (string, error) {
	files, err := gitFiles(repo)
	if err != nil {
		return "", err
	}
	mods, err := modules(repo, files)
	if err != nil {
		return "", err
	}
	if version == "" {
		if version, err = required(mods); err != nil {
			return "", err
		}
	} else if err := releasable(version); err != nil {
		return "", fmt.Errorf("-version %s: %w", version, err)
	}
	when := commitTime(repo)
	for _, m := range mods {
		if err := write(repo, out, m, version, when, files); err != nil {
			return "", err
		}
		fmt.Fprintf(os.Stderr, "modproxy: %s@%s (%s)\n", m.path, version, m.dir)
	}
	return version, nil
}

// gitFiles lists the repository's files, slash paths relative to its root:
// tracked ones still on disk, and untracked ones that .gitignore keeps.
func gitFiles(repo string) ([]string, error) {
	cmd := exec.Command("git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %w", repo, err)
	}
	var files []string
	seen := make(map[string]bool)
	for _, f := range strings.Split(string(b), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		info, err := os.Lstat(filepath.Join(repo, filepath.FromSlash(f)))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return nil, err
		}
		if info.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}

// modules finds the core and the nested modules a release tags: those whose
// path is the core's joined with their directory, so that the tag
// <dir>/vX.Y.Z is the one the go command looks for. A go.mod of another path
// outside the core's (this program's own) is no released module and is left
// out; one inside the core's path at the wrong directory is an error.
func modules(repo string, files []string) ([]mod, error) {
	var mods []mod
	for _, f := range files {
		if f != "go.mod" && !strings.HasSuffix(f, "/go.mod") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		mf, err := modfile.Parse(f, data, nil)
		if err != nil {
			return nil, err
		}
		if mf.Module == nil {
			return nil, fmt.Errorf("%s: no module line", f)
		}
		dir, p := path.Dir(f), mf.Module.Mod.Path
		switch {
		case dir == "." && p == core:
		case dir != "." && p == core+"/"+dir:
		case p == core || strings.HasPrefix(p, core+"/"):
			return nil, fmt.Errorf("%s: module %s does not match its directory (want %s): the tag %s/vX.Y.Z would not release it", f, p, core+"/"+dir, dir)
		default:
			continue
		}
		mods = append(mods, mod{dir: dir, path: p, gomod: data, file: mf})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].dir == "." || mods[j].dir != "." && mods[i].dir < mods[j].dir })
	if len(mods) == 0 || mods[0].dir != "." {
		return nil, fmt.Errorf("no go.mod of %s at the repository's root", core)
	}
	return mods, nil
}

// required is the version every nested module requires of the core and of the
// other modules of the repository: one version, and one a release can have.
func required(mods []mod) (string, error) {
	paths := make(map[string]bool)
	for _, m := range mods {
		paths[m.path] = true
	}
	version, by := "", ""
	for _, m := range mods[1:] {
		for _, r := range m.file.Require {
			if !paths[r.Mod.Path] {
				continue
			}
			if err := releasable(r.Mod.Version); err != nil {
				return "", fmt.Errorf("%s/go.mod requires %s %s: %w", m.dir, r.Mod.Path, r.Mod.Version, err)
			}
			if version == "" {
				version, by = r.Mod.Version, m.dir
			} else if r.Mod.Version != version {
				return "", fmt.Errorf("%s/go.mod requires %s %s but %s/go.mod requires %s: the modules of one release require one version (bash .ci/release.sh bumps them)",
					m.dir, r.Mod.Path, r.Mod.Version, by, version)
			}
		}
	}
	if version == "" {
		return "", errors.New("no nested module requires the core: give -version")
	}
	return version, nil
}

// releasable reports why v is no version a release tag can give the modules.
func releasable(v string) error {
	switch {
	case !semver.IsValid(v) || semver.Canonical(v) != v || semver.Build(v) != "":
		return errors.New("not a canonical semantic version vX.Y.Z")
	case module.IsPseudoVersion(v):
		return errors.New("a pseudo-version, not a release")
	case v == "v0.0.0":
		return errors.New("v0.0.0 is the placeholder of a module never tagged: no proxy serves it, so a user's go command cannot resolve it (require the release, e.g. with bash .ci/release.sh)")
	}
	return nil
}

// commitTime is the time of HEAD's commit, or now for a tree without one.
func commitTime(repo string) time.Time {
	b, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%cI").Output()
	if err == nil {
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b))); err == nil {
			return t.UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}

// write puts m at version into the proxy directory out: list, .info, .mod and
// .zip, as the GOPROXY protocol lays them out.
func write(repo, out string, m mod, version string, when time.Time, files []string) error {
	esc, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, when})
	if err != nil {
		return err
	}
	var zipped bytes.Buffer
	if err := modzip.Create(&zipped, module.Version{Path: m.path, Version: version}, moduleFiles(repo, m.dir, files)); err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  m.gomod,
		version + ".zip":  zipped.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleFiles is the files under dir, named relative to it; modzip.Create
// leaves out those of modules nested deeper.
func moduleFiles(repo, dir string, files []string) []modzip.File {
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	var list []modzip.File
	for _, f := range files {
		if rel, ok := strings.CutPrefix(f, prefix); ok {
			list = append(list, diskFile{rel: rel, abs: filepath.Join(repo, filepath.FromSlash(f))})
		}
	}
	return list
}

// diskFile is a file of the working tree, as modzip.Create takes it.
type diskFile struct{ rel, abs string }

func (f diskFile) Path() string                 { return f.rel }
func (f diskFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }
