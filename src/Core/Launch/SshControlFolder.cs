namespace Nursery.Launch;

/// <summary>
/// The folder of an ssh launcher's shared connections (ControlPath): made on first use with an unpredictable name and
/// mode 0700 (<see cref="Directory.CreateTempSubdirectory"/>), so no other user can plant or reach a socket in it;
/// removed once no child of the launcher has used it for the launcher's ConnectionSharing time (its masters leave
/// by then), and at process exit. Shared by the copies of a launcher made with <c>with</c>; ignored by equality.
/// </summary>
internal sealed class SshControlFolder
{
    private readonly Lock _gate = new();
    private string? _path;
    private int _users;
    private int _generation;
    private bool _exitHookSet;

    /// <summary>The folder in use now, or null when there is none (for tests).</summary>
    public string? Path
    {
        get
        {
            lock (_gate)
                return _path;
        }
    }

    /// <summary>The folder for one more child: made if there is none.</summary>
    public string Acquire()
    {
        lock (_gate)
        {
            if (_path is null)
            {
                _path = Directory.CreateTempSubdirectory("nursery-ssh-").FullName;
                if (!_exitHookSet)
                {
                    _exitHookSet = true;
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveNow();
                }
            }
            _users++;
            _generation++;
            return _path;
        }
    }

    /// <summary>One child is done with the folder; the last one's release removes it after <paramref name="linger"/> unless another child takes it first.</summary>
    public void Release(TimeSpan linger)
    {
        int generation;
        lock (_gate)
        {
            if (_users == 0 || --_users > 0)
                return;
            generation = _generation;
        }
        _ = RemoveLaterAsync(generation, linger);
    }

    private async Task RemoveLaterAsync(int generation, TimeSpan linger)
    {
        await Task.Delay(linger).ConfigureAwait(false);
        string? path;
        lock (_gate)
        {
            if (_users > 0 || _generation != generation)
                return;
            path = _path;
            _path = null;
        }
        Delete(path);
    }

    private void RemoveNow()
    {
        string? path;
        lock (_gate)
        {
            path = _path;
            _path = null;
        }
        Delete(path);
    }

    private static void Delete(string? path)
    {
        if (path is null)
            return;
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException) { }
    }

    public override bool Equals(object? obj) => obj is SshControlFolder;

    public override int GetHashCode() => 0;
}
