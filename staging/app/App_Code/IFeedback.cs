namespace TmsStandIn
{
    /// The page's feedback area (ctl00_uxContent_uxFeedback_uxErrorLabel / _uxInfoLabel).
    public interface IFeedback
    {
        void Error(string message);
        void Info(string message);
    }
}
