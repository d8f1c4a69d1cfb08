package pveapi

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

func TestParamsEncoding(t *testing.T) {
	net0, err := pveformat.ParsePropertyString("name=eth0,bridge=vmbr0,ip=dhcp", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := NewParams().
		Set("hostname", "web-1").
		SetInt("memory", 1024).
		SetBool("unprivileged", true).
		SetBool("onboot", false).
		Set("description", "two words\nand a line & more+plus")
	if err := p.SetProperty("net0", net0, pveformat.PropertyFormat{Required: []string{"name"}}); err != nil {
		t.Fatal(err)
	}
	p.Set("nameserver", "").
		Delete("mp0", "swap").
		Set("memory", "2048") // replaces in place
	want := "hostname=web-1&memory=2048&unprivileged=1&onboot=0" +
		"&description=two%20words%0Aand%20a%20line%20%26%20more%2Bplus" +
		"&net0=name%3Deth0%2Cbridge%3Dvmbr0%2Cip%3Ddhcp&nameserver=&delete=mp0%2Cswap"
	if got := p.Encode(); got != want {
		t.Errorf("Encode =\n%s\nwant\n%s", got, want)
	}
	decoded, err := url.ParseQuery(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Get("description") != "two words\nand a line & more+plus" || decoded.Get("delete") != "mp0,swap" {
		t.Errorf("round trip = %v", decoded)
	}
}

func TestParamsSetAndDeleteCancelEachOther(t *testing.T) {
	p := NewParams().Set("cores", "2").Delete("cores", "tags")
	if _, ok := p.Get("cores"); ok || !reflect.DeepEqual(p.Deletes(), []string{"cores", "tags"}) {
		t.Errorf("Delete after Set: keys %v deletes %v", p.Keys(), p.Deletes())
	}
	p.Set("tags", "a;b")
	if !reflect.DeepEqual(p.Deletes(), []string{"cores"}) || !reflect.DeepEqual(p.Keys(), []string{"tags"}) {
		t.Errorf("Set after Delete: keys %v deletes %v", p.Keys(), p.Deletes())
	}
}

func TestParamsCloneIsIndependentAndNilIsEmpty(t *testing.T) {
	var nilParams *Params
	if !nilParams.Empty() || nilParams.Encode() != "" || nilParams.Keys() != nil {
		t.Error("a nil *Params is empty")
	}
	var zero Params
	zero.Set("a", "1")
	c := zero.Clone()
	c.Set("b", "2").Delete("a")
	if zero.Encode() != "a=1" || c.Encode() != "b=2&delete=a" {
		t.Errorf("original %q clone %q", zero.Encode(), c.Encode())
	}
	if !NewParams().Empty() || NewParams().Delete("x").Empty() {
		t.Error("Empty must count deletes")
	}
}
