module github.com/wxmp/miniauth

go 1.25
