package miniauth

// Platform names the mini-program platform a client, a session or an
// account identity belongs to. An openid or a unionid means something only
// on its own platform.
type Platform string

// The platforms miniauth serves.
const (
	WeChat   Platform = "wechat"   // WeChat (微信) mini-programs: package wxauth
	QQ       Platform = "qq"       // QQ mini-programs: package qqauth
	Douyin   Platform = "douyin"   // Douyin (抖音/字节跳动) mini-programs: package douyinauth
	Alipay   Platform = "alipay"   // Alipay (支付宝) mini-programs: package alipayauth
	Baidu    Platform = "baidu"    // Baidu (百度) smart programs: package baiduauth
	Kuaishou Platform = "kuaishou" // Kuaishou (快手) mini-programs: package kuaishouauth
	WeCom    Platform = "wecom"    // WeCom (企业微信) mini-programs (wx.qy.login): package wecomauth
)

// Platforms returns the platforms miniauth knows, in a fixed order.
func Platforms() []Platform {
	return []Platform{WeChat, QQ, Douyin, Alipay, Baidu, Kuaishou, WeCom}
}

// Known reports whether p is one of the platforms miniauth knows.
func (p Platform) Known() bool {
	switch p {
	case WeChat, QQ, Douyin, Alipay, Baidu, Kuaishou, WeCom:
		return true
	}
	return false
}

// String returns the platform's name, such as "wechat".
func (p Platform) String() string { return string(p) }

// OrWeChat returns p, or [WeChat] for the empty platform: data written
// before miniauth served several platforms has none, and means WeChat.
func (p Platform) OrWeChat() Platform {
	if p == "" {
		return WeChat
	}
	return p
}
