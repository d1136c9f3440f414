package main

// The oracle for `-o jsonpath` and `-o custom-columns`: Kubernetes' own
// jsonpath engine (k8s.io/client-go/util/jsonpath) behind kubectl's printers
// (k8s.io/cli-runtime/pkg/printers), over the document decoded as kubectl
// decodes objects (apimachinery's JSON: integers int64, other numbers float64).
//
//   ctl printers < cases.jsonl
//
// Each input line is {"doc": {...}, "jsonpath": "T"} or {"doc": ..., "columns":
// "SPEC", "noHeaders": bool}; each output line {"out": "...", "error": "..."}.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
)

type printCase struct {
	Doc       json.RawMessage `json:"doc"`
	JSONPath  *string         `json:"jsonpath"`
	Columns   *string         `json:"columns"`
	NoHeaders bool            `json:"noHeaders"`
}

type printAnswer struct {
	Out   string `json:"out"`
	Error string `json:"error,omitempty"`
}

func cmdPrinters(args []string) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var c printCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return err
		}
		var doc map[string]interface{}
		if err := utiljson.Unmarshal(c.Doc, &doc); err != nil {
			return err
		}
		var a printAnswer
		var buf bytes.Buffer
		var err error
		switch {
		case c.JSONPath != nil:
			err = printJSONPath(*c.JSONPath, doc, &buf)
		case c.Columns != nil:
			err = printColumns(*c.Columns, c.NoHeaders, doc, &buf)
		default:
			return fmt.Errorf("a case needs jsonpath or columns")
		}
		a.Out = buf.String()
		if err != nil {
			a.Error = err.Error()
		}
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return in.Err()
}

// kubectl get -o jsonpath=T: --allow-missing-template-keys defaults to true.
func printJSONPath(t string, doc map[string]interface{}, w *bytes.Buffer) error {
	p, err := printers.NewJSONPathPrinter(t)
	if err != nil {
		return err
	}
	p.AllowMissingKeys(true)
	return p.PrintObj(&unstructured.Unstructured{Object: doc}, w)
}

// kubectl's CustomColumnsPrinter (k8s.io/kubectl/pkg/cmd/get/customcolumn.go,
// whose package drags in most of kubectl), its spec parsing and row printing
// as written there; the rows are the document's nodes.
var relaxedRegexp = regexp.MustCompile(`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`)

func relaxedJSONPathExpression(pathExpression string) (string, error) {
	if len(pathExpression) == 0 {
		return pathExpression, nil
	}
	submatches := relaxedRegexp.FindStringSubmatch(pathExpression)
	if submatches == nil {
		return "", fmt.Errorf("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'")
	}
	fieldSpec := submatches[2]
	if len(submatches[1]) != 0 {
		fieldSpec = submatches[1]
	}
	return fmt.Sprintf("{.%s}", fieldSpec), nil
}

func printColumns(spec string, noHeaders bool, doc map[string]interface{}, w *bytes.Buffer) error {
	if len(spec) == 0 {
		return fmt.Errorf("custom-columns format specified but no custom columns given")
	}
	parts := strings.Split(spec, ",")
	headers := make([]string, len(parts))
	parsers := make([]*jsonpath.JSONPath, len(parts))
	for ix := range parts {
		colSpec := strings.SplitN(parts[ix], ":", 2)
		if len(colSpec) != 2 {
			return fmt.Errorf("unexpected custom-columns spec: %s, expected <header>:<json-path-expr>", parts[ix])
		}
		fieldSpec, err := relaxedJSONPathExpression(colSpec[1])
		if err != nil {
			return err
		}
		headers[ix] = colSpec[0]
		parsers[ix] = jsonpath.New(fmt.Sprintf("column%d", ix)).AllowMissingKeys(true)
		if err := parsers[ix].Parse(fieldSpec); err != nil {
			return err
		}
	}
	tw := printers.GetNewTabWriter(w)
	defer tw.Flush()
	if !noHeaders {
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
	}
	nodes, _ := doc["nodes"].([]interface{})
	for _, node := range nodes {
		columns := make([]string, len(parsers))
		for ix, parser := range parsers {
			values, err := parser.FindResults(node)
			if err != nil {
				return err
			}
			valueStrings := []string{}
			if len(values) == 0 || len(values[0]) == 0 {
				valueStrings = append(valueStrings, "<none>")
			}
			for arrIx := range values {
				for valIx := range values[arrIx] {
					valueStrings = append(valueStrings, printers.EscapeTerminal(fmt.Sprint(values[arrIx][valIx].Interface())))
				}
			}
			columns[ix] = strings.Join(valueStrings, ",")
		}
		fmt.Fprintln(tw, strings.Join(columns, "\t"))
	}
	return nil
}
