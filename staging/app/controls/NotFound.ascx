<%@ Control Language="C#" %>
<h2>Page Not Found</h2>
<p>The page you requested does not exist.</p>
