<%@ Page Language="C#" %>
<script runat="server">
protected void Page_Load(object s, EventArgs e) {
  Response.ContentType = "text/plain";
  Response.Write("hdr=" + Request.Headers["X-Remote-User"] + "\n");
  Response.Write("sv=" + Request.ServerVariables["REMOTE_USER"] + "\n");
  Response.Write("auth=" + Request.ServerVariables["AUTH_TYPE"] + "\n");
  Response.Write("lu=" + Request.ServerVariables["LOGON_USER"] + "\n");
  Response.Write("home=" + Environment.GetEnvironmentVariable("HOME") + "\n");
  Response.Write("tmp=" + System.IO.Path.GetTempPath() + "\n");
  Response.Write("admins=" + Environment.GetEnvironmentVariable("TMS_ADMINS") + "\n");
  Response.Write("user=" + Environment.UserName + "\n");
  Response.Write("cu=" + (User == null ? "null" : User.Identity.Name) + "\n");
}
</script>
