package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryField keeps the README's config reference true:
// every YAML key of Config must appear in it.
func TestReadmeDocumentsEveryField(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		for i := range tp.NumField() {
			f := tp.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(readme, key+":") {
				t.Errorf("README.md does not document config key %s%s", path, key)
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() == tp.PkgPath() && ft.Name() != "Duration" && ft.Name() != "Secret" {
				walk(ft, path+key+".")
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}
