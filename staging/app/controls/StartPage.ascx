<%@ Control Language="C#" %>
<%@ Import Namespace="TmsStandIn" %>
<h2>Welcome to Cisco TMS</h2>
<p>Logged in as <%= HttpUtility.HtmlEncode(TmsSite.CurrentUser(Request)) %>.</p>
<p>Use the menu to open a page.</p>
