package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// ConfigFile is the kind config at the top of the repository.
const ConfigFile = "kind-config.yaml"

// FindConfig looks for kind-config.yaml in dir and its parents, so commands
// and test suites find it from any package directory.
func FindConfig(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		path := filepath.Join(d, ConfigFile)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s in %s or any parent directory", ConfigFile, dir)
		}
	}
}

func (k *Kind) loadConfig() (*v1alpha4.Cluster, error) {
	path := k.configPath
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if path, err = FindConfig(wd); err != nil {
			return nil, err
		}
	}
	cfg, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	shiftHostPorts(cfg, k.portOffset)
	return cfg, nil
}

func readConfig(path string) (*v1alpha4.Cluster, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kind config: %w", err)
	}
	cfg := &v1alpha4.Cluster{}
	if err := yaml.UnmarshalStrict(raw, cfg); err != nil {
		return nil, fmt.Errorf("kind config %s: %w", path, err)
	}
	if len(cfg.Nodes) == 0 {
		return nil, errors.New("kind config " + path + " has no nodes")
	}
	return cfg, nil
}

func shiftHostPorts(cfg *v1alpha4.Cluster, offset int32) {
	for i := range cfg.Nodes {
		for j := range cfg.Nodes[i].ExtraPortMappings {
			if cfg.Nodes[i].ExtraPortMappings[j].HostPort != 0 {
				cfg.Nodes[i].ExtraPortMappings[j].HostPort += offset
			}
		}
	}
}

// HostPorts returns the loopback host ports that kind-config.yaml publishes,
// in order, after the offset. Drills map NodePorts to them.
func HostPorts(configPath string, offset int32) (map[int32]int32, error) {
	cfg, err := readConfig(configPath)
	if err != nil {
		return nil, err
	}
	shiftHostPorts(cfg, offset)
	ports := map[int32]int32{}
	for _, n := range cfg.Nodes {
		for _, m := range n.ExtraPortMappings {
			ports[m.ContainerPort] = m.HostPort
		}
	}
	return ports, nil
}

// configStamp is a hash of the cluster config as created (after the port
// offset), kept beside the kubeconfig so that a reused cluster can be told
// apart from one made from another config.
func (k *Kind) configStamp() (string, error) {
	cfg, err := k.loadConfig()
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

func (k *Kind) stampPath() string { return k.kubeconfig + ".config-sha256" }

// writeConfigStamp records the config a new cluster was created from.
func (k *Kind) writeConfigStamp() error {
	stamp, err := k.configStamp()
	if err != nil {
		return err
	}
	return os.WriteFile(k.stampPath(), []byte(stamp+"\n"), 0o644)
}

// sameConfig reports whether the existing cluster was created from the
// config this Kind would create it from.
func (k *Kind) sameConfig() bool {
	want, err := k.configStamp()
	if err != nil {
		return false
	}
	got, err := os.ReadFile(k.stampPath())
	return err == nil && strings.TrimSpace(string(got)) == want
}
