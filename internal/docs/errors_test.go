package docs

// The code of docs/errors.md: answering in the client's language, keyed on
// the machine codes, and a check that the page and the messages cover every
// code the session package answers with.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
)

var messagesZH = map[string]string{
	session.CodeInvalidToken:      "请先登录",
	session.CodeExpiredToken:      "登录已过期，请重新登录",
	session.CodeStoreUnavailable:  "服务暂时不可用，请稍后重试",
	session.CodeServerError:       "服务器内部错误",
	session.CodeMethodNotAllowed:  "登录接口只接受 POST 请求",
	session.CodeRequestTooLarge:   "请求内容过大",
	session.CodeInvalidRequest:    "请求格式不正确",
	session.CodeUnknownApp:        "未知的小程序，请检查 appid",
	session.CodeWrongApp:          "该登录凭证不属于本小程序",
	session.CodeNotSupported:      "当前平台不支持该操作",
	session.CodeMissingCode:       "缺少登录 code",
	session.CodeInvalidCode:       "登录 code 无效或已过期，请重新调用 wx.login",
	session.CodeCodeUsed:          "登录 code 已被使用，请重新调用 wx.login",
	session.CodeRateLimited:       "登录过于频繁，请稍后再试",
	session.CodeHighRisk:          "微信判定该用户存在风险，已拒绝登录",
	session.CodeWeChatUnavailable: "暂时无法连接微信，请稍后再试",
	session.CodeInvalidSignature:  "用户数据签名校验失败",
	session.CodeDecryptFailed:     "加密数据无法解密",
	session.CodeWatermarkMismatch: "加密数据不属于本小程序",
	session.CodeIdentityMismatch:  "加密数据属于其他用户",
	session.CodeLoginRefused:      "登录被拒绝",
	session.CodeCanceled:          "请求已取消",
	session.CodeSessionKeyExpired: "会话密钥已失效，请重新登录",
	session.CodeInvalidPhoneCode:  "手机号授权已失效，请重新点击获取手机号",
	session.CodeQuotaExceeded:     "服务今日调用次数已达上限，请明天再试",
	session.CodeCrossOrigin:       "拒绝跨站请求",
	session.CodeCodeSpent:         "服务暂时不可用，请重新登录后再试",
	session.CodeServiceBusy:       "服务繁忙，请一分钟后再试",
	account.CodePhoneTaken:        "该手机号已绑定其他微信账号",
	session.CodeNotRegistered:     "请先完成注册（授权手机号）",

	session.CodeEncryptedDataUnverified: "加密数据未经微信确认，请重新获取后再登录",
}

func localizedErrors(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
	if msg, ok := messagesZH[e.Code]; ok && strings.HasPrefix(r.Header.Get("Accept-Language"), "zh") {
		e = &session.HTTPError{Status: e.Status, Code: e.Code, Message: msg, Err: e.Err}
	}
	session.WriteError(w, r, e) // {"error": e.Code, "message": e.Message}, never e.Err
}

func Example_localizedErrors() {
	sessions := session.NewManager(nil, session.WithErrorHandler(localizedErrors))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	me := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, lang := range []string{"zh-CN,zh;q=0.9", "en-US"} {
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil) // no token
		r.Header.Set("Accept-Language", lang)
		w := httptest.NewRecorder()
		me.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	// Output:
	// 401 {"error":"invalid_token","message":"请先登录"}
	// 401 {"error":"invalid_token","message":"a valid login token is required"}
}

// sessionCodes returns the values of the Code* constants of the session
// package and of the account package (its hook's phone_taken).
func sessionCodes(t *testing.T) []string {
	t.Helper()
	var codes []string
	fset := token.NewFileSet()
	for _, dir := range []string{"session", "account"} {
		codes = append(codes, dirCodes(t, fset, filepath.Join(repoRoot, dir))...)
	}
	require.NotEmpty(t, codes, "no Code* constants found")
	sort.Strings(codes)
	return codes
}

// dirCodes returns the values of the Code* constants of the package in
// dir; none when there is no such directory.
func dirCodes(t *testing.T, fset *token.FileSet, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var codes []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Code") || !id.IsExported() || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					codes = append(codes, v)
				}
			}
			return true
		})
	}
	return codes
}

// TestErrorCodesDocumented checks that docs/errors.md has a row for every
// machine code and no row for a code that does not exist, and that the
// Chinese messages of its example cover every code.
func TestErrorCodesDocumented(t *testing.T) {
	codes := sessionCodes(t)
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "errors.md"))
	require.NoError(t, err)

	var rows []string // the first column of every table row: | `code` | ...
	for _, line := range strings.Split(string(page), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if i := strings.IndexByte(rest, '`'); i > 0 {
				rows = append(rows, rest[:i])
			}
		}
	}
	for _, c := range codes {
		require.Contains(t, rows, c, "docs/errors.md has no table row for the machine code %q", c)
		require.Contains(t, messagesZH, c, "messagesZH has no message for the machine code %q", c)
	}
	for _, r := range rows {
		require.Contains(t, codes, r, "docs/errors.md has a row for %q, which is no machine code of package session", r)
	}
	for c := range messagesZH {
		require.Contains(t, codes, c, "messagesZH has a message for %q, which is no machine code of package session", c)
	}
}
