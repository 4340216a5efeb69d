module github.com/wxmp/miniauth

go 1.25

require (
	github.com/go-resty/resty/v2 v2.17.2
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/jarcoal/httpmock v1.4.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.43.0 // indirect
)
