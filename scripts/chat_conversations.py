# Hand-written user/assistant conversations for gristmill's sample corpus.
#
# There is no permissively licensed chat data among the offline sources used by
# build_sample.py, so these conversations were written for the gristmill
# project. They are original work, dedicated to the public domain under
# CC0-1.0 (https://creativecommons.org/publicdomain/zero/1.0/).
#
# build_sample.py reads CONVERSATIONS with ast.literal_eval (this file is never
# imported or executed) and renders each conversation as
#     User: ...
#     Assistant: ...
# one line per turn (messages may themselves span several lines).
#
# Keep this file to plain literals: a list of dicts with "slug" (unique,
# stable, used in the `source` field), "topic" and "turns" (a list of
# (role, message) tuples, role "user" or "assistant").

CONVERSATIONS = [
    # ------------------------------------------------------------------ tech
    {
        "slug": "python-venv-basics",
        "topic": "technical help",
        "turns": [
            ("user", """I keep installing Python packages globally and now different projects need different versions of requests. How do I keep them separate?"""),
            ("assistant", """Use a virtual environment per project. It is a folder with its own Python interpreter link and its own site-packages, so each project gets its own set of packages.

From the project folder:

python3 -m venv .venv
source .venv/bin/activate        # macOS / Linux
.venv\\Scripts\\activate           # Windows (cmd or PowerShell)

Once it is active your prompt usually shows (.venv), and `pip install requests==2.31.0` installs into that folder only. Run `deactivate` to leave it."""),
            ("user", """Nice. How do I share the exact versions with a teammate?"""),
            ("assistant", """Write them to a requirements file and commit it:

pip freeze > requirements.txt

Your teammate creates their own .venv and runs:

pip install -r requirements.txt

Add .venv/ to your .gitignore, since the environment itself should not be committed; only the list of requirements should. If you later want separate lists for production and development tools, a common pattern is requirements.txt plus requirements-dev.txt that starts with the line `-r requirements.txt`."""),
        ],
    },
    {
        "slug": "git-undo-last-commit",
        "topic": "technical help",
        "turns": [
            ("user", """I just committed to the wrong branch. I haven't pushed yet. How do I undo the commit but keep my changes?"""),
            ("assistant", """Since it is not pushed, you can move the branch pointer back one commit and keep the changes staged:

git reset --soft HEAD~1

Your files stay exactly as they are and the changes are still in the index. Then switch to the right branch and commit there:

git switch correct-branch      # or: git checkout correct-branch
git commit -m "Your message"

If switching complains about conflicts with local changes, use `git stash`, switch, then `git stash pop`."""),
            ("user", """And if I had already pushed it?"""),
            ("assistant", """Then avoid rewriting history that others may have pulled. Use `git revert` instead:

git revert HEAD

This creates a new commit that undoes the previous one, and you can push it normally. Afterwards, cherry-pick the original commit onto the correct branch:

git switch correct-branch
git cherry-pick <hash-of-the-original-commit>

`git reset` followed by a force push also works, but only do that on a branch nobody else uses."""),
        ],
    },
    {
        "slug": "linux-find-large-files",
        "topic": "technical help",
        "turns": [
            ("user", """My Linux server says the disk is 95% full. How can I find what is taking up the space?"""),
            ("assistant", """Start broad, then narrow down.

1. See which filesystem is full:
   df -h

2. Find the biggest directories on that filesystem (stay on it with -x):
   sudo du -xh / --max-depth=1 2>/dev/null | sort -rh | head -20

   Repeat on the largest directory, for example /var, until you find the culprit.

3. Or list large files directly:
   sudo find / -xdev -type f -size +500M -exec ls -lh {} + 2>/dev/null

Common culprits are logs in /var/log, old container images, core dumps and package caches. If `ncdu` is installed, `sudo ncdu -x /` gives an interactive view."""),
            ("user", """It's /var/log/journal, about 12 GB. Can I just delete it?"""),
            ("assistant", """Better to let journald clean up after itself instead of deleting files under it:

sudo journalctl --disk-usage
sudo journalctl --vacuum-size=500M     # keep at most 500 MB
# or: sudo journalctl --vacuum-time=2weeks

To make the limit permanent, set `SystemMaxUse=500M` in /etc/systemd/journald.conf and run `sudo systemctl restart systemd-journald`. It is also worth checking why so much is being logged: a service stuck in a crash loop can write gigabytes a day."""),
        ],
    },
    {
        "slug": "sql-inner-vs-left-join",
        "topic": "technical help",
        "turns": [
            ("user", """What's the actual difference between INNER JOIN and LEFT JOIN? My report is missing some customers."""),
            ("assistant", """An INNER JOIN keeps only rows that have a match on both sides. A LEFT JOIN keeps every row from the left table, and fills the right side with NULL when there is no match.

With customers(id, name) and orders(id, customer_id, total):

SELECT c.name, o.total
FROM customers c
INNER JOIN orders o ON o.customer_id = c.id;

This leaves out customers who never ordered. Switching to LEFT JOIN keeps them, with total = NULL. That is very likely why your report is missing customers."""),
            ("user", """Right. I want total spend per customer including zero for people who never ordered."""),
            ("assistant", """Group after the LEFT JOIN and turn the NULL sum into 0:

SELECT c.id, c.name, COALESCE(SUM(o.total), 0) AS total_spent
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id
GROUP BY c.id, c.name
ORDER BY total_spent DESC;

One trap: if you add a filter such as `WHERE o.created_at >= '2024-01-01'`, the WHERE clause throws away the NULL rows again and it behaves like an inner join. Put that condition in the ON clause instead:

LEFT JOIN orders o ON o.customer_id = c.id AND o.created_at >= '2024-01-01'"""),
        ],
    },
    {
        "slug": "regex-email-validation",
        "topic": "technical help",
        "turns": [
            ("user", """What's the best regex to validate an email address in a signup form?"""),
            ("assistant", r"""Honestly, there isn't a perfect one. The full address grammar allows quoted local parts, comments and other oddities that a regex either rejects or handles very badly. For a signup form a loose check is usually the right choice:

^[^@\s]+@[^@\s]+\.[^@\s]+$

That means: something without spaces or @, then one @, then a domain with at least one dot. It catches typos such as a missing @ without rejecting unusual but valid addresses like first.last+tag@sub.example.co.uk.

The only real validation is sending a confirmation email with a link. If the user clicks it, the address works."""),
            ("user", """Should I at least lowercase it before saving?"""),
            ("assistant", """Lowercasing the domain part is always safe, because domain names are case-insensitive. The local part (before the @) is technically case-sensitive, although almost every provider treats it as case-insensitive.

A practical approach: store the address as the user typed it (trimmed of surrounding spaces) for sending mail, and keep a lowercased copy in a separate column with a unique index for lookups and duplicate checks. That way Jane@Example.com and jane@example.com can't register twice, and you never alter what the user entered."""),
        ],
    },
    {
        "slug": "docker-port-not-reachable",
        "topic": "technical help",
        "turns": [
            ("user", """I run my Flask app in Docker with `docker run -p 5000:5000 myapp` but http://localhost:5000 just says connection reset. It works outside Docker."""),
            ("assistant", """The usual cause is that Flask is listening on 127.0.0.1 inside the container. Inside a container, 127.0.0.1 is the container's own loopback interface, so traffic forwarded from the host never reaches the app.

Make it listen on all interfaces:

flask run --host=0.0.0.0 --port=5000

or in code: app.run(host="0.0.0.0", port=5000)

You can confirm with `docker logs <container>`: if it says "Running on http://127.0.0.1:5000", that's the problem."""),
            ("user", """That was it! Is 0.0.0.0 a security risk?"""),
            ("assistant", """Inside the container it's fine, and it is the normal setting, because the container's network is isolated and only the ports you publish with -p are reachable.

What matters is the host side. `-p 5000:5000` publishes the port on all host interfaces, so other machines on your network can reach it. If you only want local access, bind it to loopback on the host:

docker run -p 127.0.0.1:5000:5000 myapp

Also, the Flask development server isn't meant for production. Behind a real deployment use something like gunicorn: `gunicorn -b 0.0.0.0:5000 app:app`."""),
            ("user", """Last thing: my code changes don't show up unless I rebuild the image. Is there a faster way while developing?"""),
            ("assistant", """Yes, mount your source folder into the container instead of copying it in at build time:

docker run -p 127.0.0.1:5000:5000 -v "$(pwd)":/app -e FLASK_DEBUG=1 myapp

The -v option makes /app inside the container point at your project folder, so edits are visible immediately, and debug mode makes Flask reload when files change. Keep the COPY step in the Dockerfile for production images; the bind mount is only for development.

If you start more than one container, a small compose.yaml with the same ports, volumes and environment saves you from retyping all of this."""),
        ],
    },
    {
        "slug": "chmod-755-meaning",
        "topic": "technical help",
        "turns": [
            ("user", """What does chmod 755 actually mean? I see it in every tutorial."""),
            ("assistant", """Each digit sets permissions for one group of users, in this order: owner, group, others. Each digit is a sum of read = 4, write = 2, execute = 1.

- 7 = 4+2+1 = rwx for the owner
- 5 = 4+1 = r-x for the group
- 5 = r-x for everyone else

So 755 means the owner can do everything, and everyone else can read and execute but not modify. `ls -l` shows it as -rwxr-xr-x. It's typical for scripts, programs and directories (on a directory, "execute" means permission to enter it)."""),
            ("user", """And 644?"""),
            ("assistant", """644 is rw-r--r--: the owner can read and write, everyone else can only read, and nobody can execute. It's the usual setting for ordinary files such as HTML pages, configuration files and documents.

For private files such as SSH keys, use 600 (rw-------), so only the owner can read them; ssh refuses to use a private key that other users can read. If you only want to make a script executable without thinking in numbers, `chmod +x script.sh` adds execute permission for everyone who can already read it."""),
        ],
    },
    {
        "slug": "ssh-key-setup",
        "topic": "technical help",
        "turns": [
            ("user", """How do I set up SSH keys so I don't have to type my password every time I log into my VPS?"""),
            ("assistant", """Three steps.

1. Create a key pair on your own computer (not the server):
   ssh-keygen -t ed25519 -C "laptop-2024"
   Accept the default path (~/.ssh/id_ed25519). A passphrase is recommended; an SSH agent can remember it for you.

2. Copy the public key to the server:
   ssh-copy-id user@your-server
   This appends ~/.ssh/id_ed25519.pub to ~/.ssh/authorized_keys on the server.

3. Log in: ssh user@your-server. It should use the key now."""),
            ("user", """It still asks for a password. What can be wrong?"""),
            ("assistant", """Most often it's permissions on the server. sshd ignores authorized_keys if the directory or file is writable by others. On the server:

chmod 700 ~/.ssh
chmod 600 ~/.ssh/authorized_keys
chmod go-w ~

Then run the client in verbose mode to see what happens:

ssh -v user@your-server

Look for lines like "Offering public key" and "Server accepts key". If the key is never offered, you may be using a different username or a non-default key file; in that case pass it with `-i ~/.ssh/id_ed25519`. On the server, `sudo journalctl -u ssh` (or /var/log/auth.log) often says exactly why a key was rejected."""),
        ],
    },
    {
        "slug": "python-merge-dicts",
        "topic": "technical help",
        "turns": [
            ("user", """What's the cleanest way to merge two dicts in Python where the second one wins on conflicts?"""),
            ("assistant", """On Python 3.9 or newer:

merged = defaults | overrides

The right-hand side wins for duplicate keys, and neither input is modified. To update a dict in place there is also `defaults |= overrides`.

On older versions:

merged = {**defaults, **overrides}

Both make a shallow copy: nested dicts are shared, not merged."""),
            ("user", """What if I need nested dicts merged too, like config files?"""),
            ("assistant", """Then you need a small recursive function, because the operators only merge the top level:

def deep_merge(base, override):
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result

deep_merge({"db": {"host": "localhost", "port": 5432}}, {"db": {"port": 6543}})
# {'db': {'host': 'localhost', 'port': 6543}}

Decide up front what should happen with lists: this version replaces them, which is usually what you want for configuration."""),
        ],
    },
    {
        "slug": "postgres-slow-query-index",
        "topic": "technical help",
        "turns": [
            ("user", """This query takes 4 seconds on a table with 20 million rows:
SELECT * FROM events WHERE user_id = 42 ORDER BY created_at DESC LIMIT 50;
How do I speed it up?"""),
            ("assistant", """First look at the plan:

EXPLAIN (ANALYZE, BUFFERS)
SELECT * FROM events WHERE user_id = 42 ORDER BY created_at DESC LIMIT 50;

If you see "Seq Scan on events", PostgreSQL is reading the whole table. A composite index that matches both the filter and the sort order fixes this:

CREATE INDEX CONCURRENTLY events_user_created_idx
    ON events (user_id, created_at DESC);

With that index PostgreSQL can jump to user 42's entries, which are already in the right order, and stop after 50 rows. CONCURRENTLY avoids blocking writes while the index builds; it takes longer and can't run inside a transaction block."""),
            ("user", """I already have an index on user_id alone. Isn't that enough?"""),
            ("assistant", """It helps with the filter, but not with the sort. With only (user_id), PostgreSQL has to fetch every row for that user and then sort them before it can return the newest 50. For a user with hundreds of thousands of events that's slow.

With (user_id, created_at DESC) the rows come out of the index already sorted, so the LIMIT stops the scan early. Once the new index exists, the single-column one is usually redundant, because the composite index can serve queries that only filter on user_id too. Check with EXPLAIN before dropping it, and run `ANALYZE events;` if the plan still looks wrong."""),
        ],
    },
    {
        "slug": "http-401-vs-403",
        "topic": "technical help",
        "turns": [
            ("user", """When should my API return 401 and when 403?"""),
            ("assistant", """- 401 Unauthorized really means "unauthenticated": the request has no valid credentials. The token is missing, expired or malformed. The client may succeed by logging in or refreshing the token. A 401 response should include a WWW-Authenticate header describing the expected scheme.
- 403 Forbidden means the server knows who you are, and you're not allowed to do this. Logging in again won't help.

Example: GET /admin/users without a token gets 401. With a valid token for a normal user it gets 403."""),
            ("user", """Some APIs return 404 for things I'm not allowed to see. Is that wrong?"""),
            ("assistant", """No, it's a deliberate and accepted choice. Returning 403 confirms that the resource exists, which can leak information; for example, that a private repository with a given name exists. Answering 404 for "exists but you can't see it" and "doesn't exist" makes the two indistinguishable.

A reasonable rule: use 404 when the mere existence of the resource is sensitive, and 403 when it isn't and a clear error helps the client, such as a read-only user trying to delete something they can see. Whatever you pick, be consistent and document it."""),
        ],
    },
    {
        "slug": "css-center-element",
        "topic": "technical help",
        "turns": [
            ("user", """How do I center a div both horizontally and vertically on the page? I've tried margin: auto and it only centers horizontally."""),
            ("assistant", """margin: auto only centers horizontally in normal block layout. Use flexbox or grid on the parent instead.

Flexbox:

.page {
  display: flex;
  justify-content: center;   /* horizontal */
  align-items: center;       /* vertical */
  min-height: 100vh;
}

Grid, shorter:

.page {
  display: grid;
  place-items: center;
  min-height: 100vh;
}

The min-height matters: without it the parent is only as tall as its content, so there's nothing to center within vertically."""),
            ("user", """The grid version works, thanks. Why 100vh and not height: 100%?"""),
            ("assistant", """A percentage height is relative to the parent's height, and by default html and body are only as tall as their content. So height: 100% often resolves to "100% of something that's already tiny". You'd have to set height: 100% on html and body as well to make it work.

100vh means 100% of the viewport height, regardless of the parents. One caveat: on mobile browsers 100vh can be taller than the visible area when the address bar is shown. Newer browsers support 100dvh ("dynamic viewport height") for that case; you can write min-height: 100vh; followed by min-height: 100dvh; and browsers that don't understand the second line will keep the first."""),
        ],
    },
    {
        "slug": "git-merge-conflict",
        "topic": "technical help",
        "turns": [
            ("user", """git merge says CONFLICT (content): Merge conflict in settings.py. I've never dealt with this. What now?"""),
            ("assistant", """Don't panic, nothing is lost. Git merged what it could and needs you to decide on the overlapping lines.

1. Open settings.py. You'll see blocks like:

<<<<<<< HEAD
DEBUG = False
=======
DEBUG = True
>>>>>>> feature-branch

The top part is your current branch, the bottom part is the branch you're merging in.

2. Edit the block so it contains what you actually want, and delete the three marker lines.
3. Mark it resolved and finish the merge:

git add settings.py
git commit

`git status` lists every file that still has conflicts."""),
            ("user", """What if I want to give up and go back to before the merge?"""),
            ("assistant", """Run:

git merge --abort

That restores the branch to the state before you started the merge, as long as you haven't committed the merge yet. If you had uncommitted changes before merging, Git may not be able to restore them cleanly, which is why it's a good habit to commit or stash before merging.

For future conflicts, `git mergetool` opens a side-by-side tool, and many editors (VS Code, for example) show "Accept current / Accept incoming / Accept both" buttons directly above each conflict."""),
        ],
    },
    {
        "slug": "python-unicodedecodeerror",
        "topic": "technical help",
        "turns": [
            ("user", """I get UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 1043 when reading a CSV with open(). What does that mean?"""),
            ("assistant", """The file isn't UTF-8. Byte 0xe9 is "é" in Latin-1 and Windows-1252, which are common for CSV files exported by older tools or by Excel on Windows. Python is trying to read it as UTF-8 and that byte isn't valid there.

Tell Python the real encoding:

with open("data.csv", encoding="cp1252", newline="") as f:
    reader = csv.reader(f)

cp1252 is a safe first guess for Western European files coming from Windows."""),
            ("user", """How can I know the encoding for sure instead of guessing?"""),
            ("assistant", """In general you can't know for sure; bytes don't carry their encoding. You can only make an educated guess or ask whoever produced the file. Some options:

- The `file -i data.csv` command on Linux or macOS gives a quick guess.
- The charset-normalizer package (pip install charset-normalizer) analyses the bytes and reports the most likely encoding.
- If the exporting tool lets you choose, pick "CSV UTF-8". That solves it at the source.

As a last resort, `open(..., encoding="utf-8", errors="replace")` reads the file anyway and replaces undecodable bytes with U+FFFD, but that loses information, so only use it when a few damaged characters don't matter."""),
        ],
    },
    {
        "slug": "big-o-binary-search",
        "topic": "technical help",
        "turns": [
            ("user", """Why is binary search O(log n)? I get that it's fast but not where the log comes from."""),
            ("assistant", """Each step halves the part of the list you still have to search. Start with n elements; after one comparison n/2 remain, after two n/4, after k steps n/2^k. You're done when only one element is left:

n / 2^k = 1  ->  2^k = n  ->  k = log2(n)

So the number of steps is the number of times you can halve n, which is the base-2 logarithm. For a million sorted items that's about 20 comparisons, since 2^20 is roughly 1,048,576. A linear scan might need a million."""),
            ("user", """So why do people just write O(log n) without the base 2?"""),
            ("assistant", """Because logarithms in different bases only differ by a constant factor: log2(n) = log10(n) / log10(2), which is about 3.32 x log10(n). Big-O notation ignores constant factors, so O(log2 n), O(log10 n) and O(ln n) all describe the same growth rate, and the base is usually left out.

The base still matters if you want actual step counts. A B-tree node with 100 children, for example, gives a height of roughly log100(n), which is why a database index can find one row among a billion in just a handful of page reads."""),
        ],
    },
    {
        "slug": "cron-weekdays",
        "topic": "technical help",
        "turns": [
            ("user", """How do I run a backup script every weekday at 7:30 in the morning with cron?"""),
            ("assistant", """Open your crontab with `crontab -e` and add:

30 7 * * 1-5 /home/you/bin/backup.sh >> /home/you/backup.log 2>&1

The fields are: minute (30), hour (7), day of month (*), month (*), day of week (1-5 = Monday to Friday). The redirect at the end stores the output and any errors in a log, since cron otherwise tries to mail the output to you, which usually goes nowhere."""),
            ("user", """It works when I run it by hand but not from cron. The log says 'pg_dump: command not found'."""),
            ("assistant", """Cron runs jobs with a minimal environment: a very short PATH (often just /usr/bin:/bin) and none of your shell's profile settings. Your interactive shell finds pg_dump because your PATH includes its directory.

Fix it in one of these ways:

1. Use the full path in the script, e.g. /usr/lib/postgresql/15/bin/pg_dump (`which pg_dump` shows where yours is).
2. Set PATH at the top of the crontab:
   PATH=/usr/local/bin:/usr/bin:/bin:/usr/lib/postgresql/15/bin
3. Set PATH at the top of backup.sh.

Remember that anything else the script depends on, such as environment variables for passwords or the current working directory, also has to be set explicitly."""),
            ("user", """How do I check that cron actually ran it this morning?"""),
            ("assistant", """Three places to look:

1. Your own log file: with the redirect from earlier, /home/you/backup.log should contain today's output. Adding a line like `echo "backup started $(date)"` at the top of the script makes this easier to read.
2. The system log: on Debian and Ubuntu, `grep CRON /var/log/syslog` or `journalctl -u cron --since today` shows each job cron started, with the command line.
3. The result itself: check that today's backup file exists and isn't empty, e.g. `ls -lh /backups | tail`.

If cron started the job but nothing useful happened, the problem is in the script's environment; if cron never started it, check the crontab with `crontab -l` and make sure the cron service is running."""),
        ],
    },
    {
        "slug": "go-waitgroup",
        "topic": "technical help",
        "turns": [
            ("user", """My Go program starts goroutines in a loop but main exits before they finish. How do I wait for them?"""),
            ("assistant", """Use a sync.WaitGroup:

var wg sync.WaitGroup
for _, url := range urls {
    wg.Add(1)
    go func(u string) {
        defer wg.Done()
        fetch(u)
    }(url)
}
wg.Wait()

Call Add before starting the goroutine (not inside it), call Done when each goroutine finishes (defer makes that reliable), and Wait blocks until the counter is back to zero."""),
            ("user", """Why pass url as a parameter instead of just using it inside the closure?"""),
            ("assistant", """Before Go 1.22, the loop variable was a single variable reused on every iteration. A closure that captures it directly might see a later value by the time the goroutine runs, so several goroutines could end up fetching the last URL. Passing it as an argument copies the current value into each goroutine.

Since Go 1.22 each iteration gets a fresh variable, so capturing it directly is safe in modules that declare go 1.22 or later in go.mod. Passing the value explicitly still works everywhere and makes the intent obvious, so plenty of code keeps doing it.

If the goroutines also need to return errors, look at golang.org/x/sync/errgroup: it combines the waiting with collecting the first error."""),
        ],
    },
    {
        "slug": "rust-string-vs-str",
        "topic": "technical help",
        "turns": [
            ("user", """In Rust, when should a function take String and when &str?"""),
            ("assistant", """Take &str when the function only needs to read the text; take String when it needs to own it, for example to store it in a struct or move it to another thread.

fn greet(name: &str) { println!("Hello, {name}"); }

&str accepts string literals, slices, and &String (which derefs to &str automatically), so it's the more flexible parameter type:

greet("Ana");
let owned = String::from("Ben");
greet(&owned);"""),
            ("user", """And for a struct field?"""),
            ("assistant", """Usually String. A struct field of type &str needs a lifetime parameter (struct User<'a> { name: &'a str }), which ties the struct to whatever owns the text. That's sometimes exactly right, for example in a zero-copy parser, but it makes the type harder to use and pass around.

A common pattern is to store String and accept anything convertible in the constructor:

struct User { name: String }

impl User {
    fn new(name: impl Into<String>) -> Self {
        User { name: name.into() }
    }
}

Now User::new("Ana") and User::new(some_string) both work, and an owned String is moved in without an extra copy."""),
        ],
    },
    {
        "slug": "dns-change-not-visible",
        "topic": "technical help",
        "turns": [
            ("user", """I changed my domain's A record to a new server 3 hours ago but some people still reach the old one. Is something broken?"""),
            ("assistant", """Probably not. DNS resolvers cache answers for the record's TTL (time to live). If the old record had a TTL of 86400 seconds, resolvers that looked it up just before your change can keep using the old IP for up to 24 hours. Different ISPs cache at different times, which is why some users see the new server and others don't.

You can check what the authoritative servers now say:

dig +short example.com A @ns1.your-dns-provider.com

and compare with a public resolver:

dig +short example.com A @1.1.1.1"""),
            ("user", """How do I avoid this next time?"""),
            ("assistant", """Lower the TTL ahead of time. A day or two before the migration (at least one old-TTL period beforehand), set the TTL on the record to something like 300 seconds. Once the old long TTL has expired everywhere, caches will only hold the record for five minutes, so the switch-over becomes quick. After the migration has settled, raise the TTL again.

Also keep the old server running and serving the site (or redirecting) until the old TTL has passed after the change, so that users with cached answers aren't left with errors."""),
        ],
    },
    {
        "slug": "pandas-groupby-sum",
        "topic": "technical help",
        "turns": [
            ("user", """I have a pandas DataFrame with columns region, product, sales. How do I get total sales per region?"""),
            ("assistant", """totals = df.groupby("region")["sales"].sum()

That returns a Series indexed by region. If you want a regular DataFrame with region as a column, for example to export it:

totals = df.groupby("region", as_index=False)["sales"].sum()

Add .sort_values("sales", ascending=False) to rank the regions."""),
            ("user", """Can I get the sum and the average and the number of rows at once?"""),
            ("assistant", """Yes, with agg and named aggregations:

summary = df.groupby("region").agg(
    total_sales=("sales", "sum"),
    avg_sales=("sales", "mean"),
    n_rows=("sales", "size"),
).reset_index()

Each keyword becomes an output column, defined as (input column, function). "size" counts all rows, while "count" would count only non-missing sales values; choose whichever matches what you mean. To break it down by region and product, pass a list: df.groupby(["region", "product"])."""),
        ],
    },
    {
        "slug": "api-retry-backoff",
        "topic": "technical help",
        "turns": [
            ("user", """A third-party API sometimes returns 429 Too Many Requests. What's a good retry strategy?"""),
            ("assistant", """Retry with exponential backoff plus jitter, and respect the server's hints:

1. If the response has a Retry-After header, wait that long.
2. Otherwise wait base * 2^attempt seconds (1, 2, 4, 8 ...), capped at some maximum such as 60 s.
3. Add randomness ("jitter"), e.g. sleep a random time between 0 and the computed delay, so many clients don't all retry at the same instant.
4. Give up after a fixed number of attempts and surface the error.

In Python:

for attempt in range(6):
    r = session.get(url)
    if r.status_code != 429:
        break
    delay = float(r.headers.get("Retry-After", min(60, 2 ** attempt)))
    time.sleep(random.uniform(0, delay) if "Retry-After" not in r.headers else delay)"""),
            ("user", """Should I retry on 500 errors too?"""),
            ("assistant", """For 502, 503 and 504, usually yes; they're typically temporary (overloaded or restarting upstream). A plain 500 is more ambiguous: it might be a bug that fails every time, so retry only a couple of times.

More important than the status code is whether the request is safe to repeat. GET, PUT and DELETE are meant to be idempotent. A POST that creates an order or charges a card might already have succeeded before the error, so retrying could do it twice. Many payment and ordering APIs accept an idempotency key header for exactly this reason: send the same key on every retry and the server performs the operation at most once.

Never retry other 4xx errors like 400 or 404; the request itself is wrong and will fail again."""),
        ],
    },
    {
        "slug": "pytest-fixtures",
        "topic": "technical help",
        "turns": [
            ("user", """Several of my pytest tests create the same temporary SQLite database. How do I avoid copy-pasting the setup?"""),
            ("assistant", """Put it in a fixture:

import sqlite3
import pytest

@pytest.fixture
def db(tmp_path):
    conn = sqlite3.connect(tmp_path / "test.db")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    yield conn
    conn.close()

def test_insert(db):
    db.execute("INSERT INTO users (name) VALUES ('ana')")
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1

pytest sees the parameter name db and calls the fixture. Everything after yield runs as teardown, even if the test fails. tmp_path is a built-in fixture that gives each test its own temporary directory."""),
            ("user", """Where do I put it so tests in different files can use it?"""),
            ("assistant", """In a file named conftest.py in the tests directory (or any parent directory of the tests that need it). pytest loads conftest.py automatically, and its fixtures are available to all tests below that directory without importing anything.

If creating the database is slow, you can widen the scope, e.g. @pytest.fixture(scope="module") or scope="session", so it's created once and shared. The trade-off is that tests can then affect each other through shared data, so either keep those tests read-only or clean up between them (for example, run each test inside a transaction and roll it back)."""),
        ],
    },
    {
        "slug": "slow-laptop-troubleshooting",
        "topic": "technical help",
        "turns": [
            ("user", """My Windows laptop got really slow over the last month. Fans are loud all the time. Where should I start?"""),
            ("assistant", """Start by finding out what is using the resources:

1. Open Task Manager (Ctrl+Shift+Esc) and sort the Processes tab by CPU, then by Memory and Disk. A single process stuck near 100% CPU usually explains loud fans.
2. In the Startup apps tab (Settings > Apps > Startup on Windows 11), disable things you don't need at login.
3. Check free disk space; with less than about 10% free, everything gets sluggish.
4. Make sure Windows Update isn't stuck half-way: install pending updates and restart.

What do you see at the top of the CPU column?"""),
            ("user", """Something called 'Antimalware Service Executable' at 30-40% most of the time."""),
            ("assistant", """That's Microsoft Defender's scanning engine. Short bursts are normal, but constant high usage often means it's repeatedly scanning something large or busy, such as a folder full of small files that change often (a node_modules directory, a game library, a sync folder).

Things to try:
- Let a full scan finish once; a scan that keeps getting interrupted restarts again and again.
- In Windows Security > Virus & threat protection > Manage settings > Exclusions, exclude folders you trust that change constantly, like development folders. Don't exclude whole drives or your Downloads folder.
- If the fans stay loud even when CPU use is low, dust in the vents is a likely cause on a laptop that's a few years old; compressed air through the vents, with the laptop switched off, often helps noticeably."""),
        ],
    },
    {
        "slug": "javascript-fetch-errors",
        "topic": "technical help",
        "turns": [
            ("user", """Why doesn't my catch block run when the server returns 404?

try {
  const res = await fetch('/api/items/7');
  const item = await res.json();
} catch (err) {
  showError(err);
}"""),
            ("assistant", """fetch only rejects on network-level failures: DNS errors, the connection being refused, CORS blocks and the like. An HTTP error status such as 404 or 500 still counts as a successful request from fetch's point of view; the promise resolves with a Response whose ok property is false.

Check it yourself:

try {
  const res = await fetch('/api/items/7');
  if (!res.ok) {
    throw new Error(`HTTP ${res.status}`);
  }
  const item = await res.json();
} catch (err) {
  showError(err);
}

res.ok is true for statuses 200-299."""),
            ("user", """Can I also add a timeout? Sometimes it hangs forever."""),
            ("assistant", """Yes, with an AbortSignal. In current browsers and Node 18+ the shortest version is:

const res = await fetch('/api/items/7', { signal: AbortSignal.timeout(8000) });

If the request takes longer than 8 seconds it's aborted and fetch rejects with an error whose name is "TimeoutError", so your existing catch block will handle it. You can check err.name in the catch if you want a different message for timeouts.

For older environments, create an AbortController, pass controller.signal to fetch, and call controller.abort() from a setTimeout."""),
        ],
    },
    {
        "slug": "spreadsheet-lookup",
        "topic": "technical help",
        "turns": [
            ("user", """In Excel I have product codes in column A of Sheet1 and a price list on Sheet2 (codes in A, prices in B). How do I pull the price next to each code?"""),
            ("assistant", """If you have Excel 365 or 2021, use XLOOKUP in B2 of Sheet1:

=XLOOKUP(A2, Sheet2!A:A, Sheet2!B:B, "not found")

Then fill it down. It looks for A2 in Sheet2's column A and returns the value from column B in the same row; the last argument is what to show when the code is missing.

In older versions use VLOOKUP:

=VLOOKUP(A2, Sheet2!A:B, 2, FALSE)

The FALSE is important: it forces an exact match. Without it, VLOOKUP assumes sorted data and can silently return the wrong price."""),
            ("user", """Some codes show 'not found' although I can see them on Sheet2."""),
            ("assistant", """That's almost always a formatting mismatch. Typical causes:

- Extra spaces: "AB123 " is not "AB123". Test with =LEN(A2) on both sheets, or compare after cleaning: =XLOOKUP(TRIM(A2), TRIM(Sheet2!A:A), Sheet2!B:B, "not found").
- Numbers stored as text on one sheet and as numbers on the other. Numbers stored as text often have a small green triangle in the cell corner. Convert them with the warning menu ("Convert to Number") or use VALUE().
- Invisible characters from copied web data, such as non-breaking spaces; CLEAN() and SUBSTITUTE(A2, CHAR(160), "") help there.

Check one failing code by hand with =A2=Sheet2!A15 (pointing at the row where you can see it); FALSE confirms the two cells aren't really identical."""),
        ],
    },
    {
        "slug": "wifi-slow-one-room",
        "topic": "technical help",
        "turns": [
            ("user", """Wi-Fi is fast in the living room but almost unusable in my bedroom two walls away. Should I buy a faster router?"""),
            ("assistant", """A faster router rarely fixes range problems; walls, floors and distance are usually the limit, especially on 5 GHz, which is fast but doesn't pass through walls well.

Cheaper things to try first:
1. Move the router: central, raised (on a shelf, not on the floor), away from metal objects, mirrors and fish tanks.
2. In the bedroom, check whether you're connected to the 2.4 GHz or 5 GHz network. 2.4 GHz is slower but reaches further, so it might actually be better there.
3. Run a speed test right next to the router, to confirm your internet connection itself is fine.

If that isn't enough, the real fixes are a mesh system or an access point connected by cable."""),
            ("user", """There's no Ethernet in the bedroom. Mesh or a range extender?"""),
            ("assistant", """Mesh, if the budget allows. A classic range extender repeats the signal on the same radio, which roughly halves the throughput for devices connected through it, and it often creates a second network name that devices cling to even when they'd be better off on the main one.

Mesh systems use a single network name, hand devices over between nodes automatically, and many models have a dedicated radio for the link between nodes, so less speed is lost. Place the second node about halfway between the router and the bedroom, where it still gets a good signal; placing it in the bedroom itself, where reception is already poor, is a common mistake.

If the house wiring allows it, powerline adapters are another option: they carry the network over your electrical wiring, and some include a Wi-Fi access point."""),
        ],
    },
    {
        "slug": "password-manager-question",
        "topic": "technical help",
        "turns": [
            ("user", """Is it actually safe to put all my passwords in a password manager? Feels like putting all eggs in one basket."""),
            ("assistant", """It's a fair concern, but for most people a password manager is much safer than the alternatives. The realistic alternative is reusing a few passwords, and then one breached website exposes all your accounts. With a manager every site gets a long random password, so a breach at one site stays at that site.

Reputable managers encrypt the vault on your device with a key derived from your master password, so the provider stores only encrypted data. The basket is well protected, as long as you:

- use a long, unique master password (a passphrase of 4-6 random words works well),
- turn on two-factor authentication for the manager account,
- keep your devices updated."""),
            ("user", """What happens if I forget the master password?"""),
            ("assistant", """With most zero-knowledge managers the provider can't reset it for you, because they never had the key. That's the price of the security model. So plan for it now:

- Many managers offer a recovery option (an emergency kit, a recovery code, or account recovery through a trusted device). Set it up and store the recovery code on paper somewhere safe at home.
- Some let you name an emergency contact who can request access after a waiting period.
- Practise the master password: type it from memory several times during the first weeks rather than relying on autofill or biometrics alone.

Writing the master password down and keeping it at home, in a drawer or a safe, is a perfectly reasonable choice for most people; the main threats are online attackers, not burglars."""),
        ],
    },
    # --------------------------------------------------------------- cooking
    {
        "slug": "sourdough-starter-feeding",
        "topic": "cooking",
        "turns": [
            ("user", """I started a sourdough starter 5 days ago. It bubbled a lot on day 2 and now it's almost dead. Did I kill it?"""),
            ("assistant", """Almost certainly not; this is the classic lull. The early burst of activity comes from bacteria that thrive at the start, and they die back as the mixture gets more acidic. The yeast and lactic acid bacteria you actually want take over more slowly, usually somewhere between days 5 and 14.

Keep going:
- Feed once or twice a day: discard all but about 50 g, then add 50 g flour and 50 g water (1:1:1 by weight).
- Keep it somewhere warm, ideally 24-27 °C (75-80 °F).
- Some whole-wheat or rye flour in the mix gives it a boost.

It's ready when it reliably doubles within 4-8 hours of a feeding and smells pleasantly sour, rather than like nail polish or old cheese."""),
            ("user", """There's a grey liquid on top when I forget to feed it. Is it mold?"""),
            ("assistant", """No, that's "hooch": alcohol and water that separate out when the starter is hungry. It's harmless. Pour it off (for a tangier flavour you can stir it back in) and feed as usual. If you see it often, feed a little more often or use a bit more flour.

Mold looks different: fuzzy spots, or pink, orange or green patches on the surface or the jar walls. Pink or orange streaks in particular mean you should throw the starter away and begin again in a clean jar. Grey liquid, a few dark spots of dried starter on the rim, and a sour or yeasty smell are all normal."""),
        ],
    },
    {
        "slug": "buttermilk-substitute",
        "topic": "cooking",
        "turns": [
            ("user", """My pancake recipe needs 1 cup of buttermilk and I don't have any. Can I substitute something?"""),
            ("assistant", """Yes. Put 1 tablespoon of lemon juice or white vinegar in a measuring cup, add milk up to the 1 cup line, stir, and let it stand 5-10 minutes. It thickens slightly and may curdle a little, which is exactly what you want.

Other options:
- 3/4 cup plain yogurt thinned with 1/4 cup milk
- 3/4 cup sour cream thinned with 1/4 cup milk

The acidity is what matters: it reacts with the baking soda in the recipe to make the pancakes rise and keeps them tender."""),
            ("user", """I only have oat milk. Does that work?"""),
            ("assistant", """It works, though the result is a bit different. Plant milks don't have the casein that makes dairy milk curdle, so oat milk with lemon juice won't thicken as much. It still provides the acidity for the baking soda, which is the main job, so your pancakes will rise fine.

Tips: use the same amount of acid (1 tablespoon per cup), let it stand the full 10 minutes, and if the batter seems thin, add a spoonful or two of extra flour. Unsweetened oat milk is best; with a sweetened one you might reduce the sugar in the recipe slightly."""),
        ],
    },
    {
        "slug": "stovetop-rice",
        "topic": "cooking",
        "turns": [
            ("user", """My rice is always either crunchy or mushy. What's the right way to cook white rice in a pot?"""),
            ("assistant", """For long-grain white rice (like jasmine or basmati):

1. Rinse 1 cup of rice in a sieve until the water runs mostly clear. This removes surface starch that makes rice gummy.
2. Put it in a pot with 1.5 cups of water and a pinch of salt (about 1.25 cups for jasmine if you like it firmer).
3. Bring to a boil, then cover with a tight lid and turn the heat to the lowest setting.
4. Cook 15 minutes without lifting the lid.
5. Take it off the heat and leave it covered for 10 more minutes, then fluff with a fork.

Lifting the lid lets steam escape, which is the most common cause of crunchy rice."""),
            ("user", """What about brown rice?"""),
            ("assistant", """Brown rice still has its bran layer, so it needs more water and much more time. Use about 1 cup rice to 2 to 2.25 cups water, simmer covered on low for 40-45 minutes, then rest 10 minutes off the heat.

An even more forgiving method is to cook it like pasta: boil it in a large pot of salted water for about 30 minutes, drain it well, then return it to the pot, cover, and let it steam off the heat for 10 minutes. You don't need an exact ratio that way, and the grains come out separate rather than sticky."""),
            ("user", """Can I make a bigger batch, like 3 cups of rice, with the same method?"""),
            ("assistant", """Yes, but don't simply triple the water. Some water evaporates during cooking regardless of the batch size, so larger batches need proportionally a little less. For 3 cups of long-grain white rice, about 4 to 4.25 cups of water usually works instead of 4.5.

Use a wide pot so the rice layer isn't too deep, keep the lid on, and expect it to need a few extra minutes, around 18-20 minutes on low plus the 10-minute rest. If the top is still slightly firm when the bottom is done, leave it covered off the heat for another 5 minutes rather than adding water."""),
        ],
    },
    {
        "slug": "vegetarian-meal-prep",
        "topic": "cooking",
        "turns": [
            ("user", """I want to meal prep vegetarian lunches for the work week. I have about 2 hours on Sunday. Ideas that don't get soggy?"""),
            ("assistant", """Here's a plan that keeps well for 4-5 days:

1. A big tray of roasted vegetables (chickpeas, sweet potato, red onion, peppers, broccoli), tossed with oil, salt, cumin and smoked paprika, at 220 °C / 425 °F for 30-35 minutes.
2. A pot of grains, such as quinoa, farro or brown rice.
3. A sauce kept in a separate jar: lemon-tahini (tahini, lemon juice, garlic, water, salt) or a peanut-lime dressing.
4. Something crunchy, kept separately: toasted seeds or nuts.

Each day: grains + vegetables in the box, sauce and crunch added at lunch. Keeping the wet and crunchy parts apart is what prevents sogginess."""),
            ("user", """I'll get bored of the same bowl every day."""),
            ("assistant", """Keep the base the same and change the flavours. One batch of grains and plain roasted vegetables can become:

- Monday: lemon-tahini with parsley and feta
- Tuesday: peanut-lime sauce with cucumber and spring onion
- Wednesday: salsa, black beans, a little cheese and a squeeze of lime, as a burrito bowl
- Thursday: pesto stirred through the grains, with cherry tomatoes
- Friday: everything left over, warmed up with a fried egg on top

Three small jars of sauce take about 15 minutes in total and make the week feel much more varied. Season the vegetables lightly with salt and oil only, so they fit every sauce."""),
        ],
    },
    {
        "slug": "steak-doneness",
        "topic": "cooking",
        "turns": [
            ("user", """I bought a meat thermometer. What temperatures should I aim for with steak?"""),
            ("assistant", """Typical internal temperatures, measured in the thickest part:

- Rare: 49-52 °C (120-125 °F)
- Medium-rare: 54-57 °C (130-135 °F)
- Medium: 60-63 °C (140-145 °F)
- Medium-well: 65-68 °C (150-155 °F)
- Well done: 71 °C (160 °F) and above

Take the steak off the heat about 3 °C (5 °F) below your target, because the temperature keeps rising while it rests. Then let it rest for 5 minutes or so before cutting."""),
            ("user", """Why do burgers have a higher recommended temperature than steak?"""),
            ("assistant", """Because of where bacteria live. On a whole steak, bacteria are on the surface, and searing the outside kills them, so the inside can safely stay pink. Grinding meat mixes the surface into the middle, so bacteria can be anywhere in a burger, including the centre.

That's why food safety agencies recommend cooking ground beef to 71 °C (160 °F) throughout. If you want pink burgers, grind the meat yourself right before cooking from a freshly trimmed piece, or buy from a butcher who grinds to order, and understand that it's still a small risk. It's best avoided for children, pregnant people and anyone with a weakened immune system."""),
        ],
    },
    {
        "slug": "recipe-cups-to-grams",
        "topic": "cooking",
        "turns": [
            ("user", """I'm in Germany with an American cookie recipe: 2 1/4 cups flour, 1 cup butter, 3/4 cup sugar, 3/4 cup brown sugar. I only have a scale. Help?"""),
            ("assistant", """Approximate weights:

- Flour: 2 1/4 cups is about 280-290 g (a US cup of all-purpose flour is roughly 125 g). Type 550 flour is the closest German equivalent; 405 also works.
- Butter: 1 cup = 2 US sticks = 227 g, so use 225 g.
- Granulated sugar: 3/4 cup is about 150 g.
- Brown sugar (packed): 3/4 cup is about 165 g.

Flour is the one to be careful with: American recipes vary in how they measure a cup, so if the dough feels sticky you can add 10-20 g more."""),
            ("user", """It also says bake at 375 °F. My oven has a fan setting."""),
            ("assistant", """375 °F is 190 °C for a conventional oven (top and bottom heat). With the fan (Umluft), reduce by about 20 °C, so bake at 170 °C.

Fan ovens also cook a bit faster and more evenly, so check the cookies a couple of minutes before the recipe's time. They're done when the edges are golden and the centres still look slightly soft; they firm up as they cool on the tray. If you're baking one tray at a time, the conventional setting at 190 °C works just as well."""),
        ],
    },
    {
        "slug": "tomato-sauce-acidic",
        "topic": "cooking",
        "turns": [
            ("user", """My tomato sauce tastes sharp and sour. How do I fix it?"""),
            ("assistant", """A few ways, from gentlest to strongest:

1. Simmer longer. 20-30 extra minutes mellows raw acidity a lot.
2. Add fat: a knob of butter or a good splash of olive oil rounds out sharpness.
3. Add a little sweetness: a pinch of sugar, or a grated carrot cooked in the sauce.
4. Neutralise some acid: a small pinch of baking soda (about 1/4 teaspoon for a large pot). It will foam briefly. Taste before adding more, because too much makes the sauce flat and soapy.

Taste and adjust the salt at the end too; under-salted tomato sauce often tastes more sour than it is."""),
            ("user", """Why are some tomatoes more acidic than others?"""),
            ("assistant", """Variety, ripeness and processing all play a role. Tomatoes picked under-ripe and ripened in transport tend to be more acidic and less sweet than vine-ripened ones. Paste varieties such as San Marzano or Roma have more flesh and less of the acidic gel around the seeds, so they usually give a rounder sauce.

With canned tomatoes the brand matters too: some add citric acid for safety and firmness, so it's worth reading the label. Whole peeled tomatoes are often better than chopped ones, which may contain calcium chloride to keep the pieces firm; that's nice in a salsa but stops them breaking down in a sauce."""),
        ],
    },
    {
        "slug": "bread-dough-not-rising",
        "topic": "cooking",
        "turns": [
            ("user", """My bread dough has been sitting for 2 hours and it hasn't risen at all. What went wrong?"""),
            ("assistant", """The most common causes:

1. Water too hot. Above roughly 55-60 °C (130-140 °F) the yeast dies. Lukewarm, around body temperature, is what you want.
2. Old or dead yeast. Check the date on the packet.
3. A cold kitchen. At 18 °C dough can take twice as long as at 25 °C.
4. Salt poured directly onto the yeast in a concentrated spot, which slows it down.

Test your yeast: stir a teaspoon into a little lukewarm water with a pinch of sugar. If it isn't foamy after 10 minutes, it's dead."""),
            ("user", """The yeast foams fine. My kitchen is about 17 °C."""),
            ("assistant", """Then it's almost certainly just the cold; the dough is alive, just slow. Give it a warmer spot:

- in the oven with only the light switched on (many ovens reach 25-30 °C that way),
- in a switched-off oven with a bowl of hot water on the shelf below,
- near, but not on, a radiator.

Or simply wait: at 17 °C a first rise can take 3-4 hours. Slow rises aren't bad, since they develop more flavour. Go by the dough rather than the clock: it's ready when it has roughly doubled and a floured finger-poke springs back slowly, leaving a slight dent."""),
        ],
    },
    {
        "slug": "knife-sharpening",
        "topic": "cooking",
        "turns": [
            ("user", """What's the difference between honing and sharpening a kitchen knife?"""),
            ("assistant", """Sharpening removes metal to create a new edge. Honing doesn't remove (much) metal; it straightens an edge that has rolled or bent slightly with use.

- A honing rod (the "steel" in knife sets) is for frequent use, even every few cooking sessions. A few light strokes per side at the blade's angle keep the edge aligned and the knife feeling sharp.
- Sharpening, with a whetstone or a good pull-through sharpener, is needed when honing no longer helps. For a home cook that's typically every few months."""),
            ("user", """I want to try a whetstone. Which grit and angle?"""),
            ("assistant", """A combination stone with 1000 grit on one side and 4000-6000 on the other is the classic starting point. 1000 does the actual sharpening; the finer side polishes and refines the edge.

Angle: most European/German knives are sharpened at about 15-20 degrees per side, many Japanese knives at 10-15 degrees. More important than the exact number is holding the same angle on every stroke. A trick: fold a sheet of paper diagonally twice to make a rough angle guide, or use a clip-on angle guide.

Basic routine: soak the stone if it's a soaking type, sharpen one side on 1000 grit until you can feel a slight burr along the whole opposite edge, repeat on the other side, then do the same with lighter strokes on the fine side. Finish with a few strokes on the honing rod or on newspaper to remove the burr."""),
        ],
    },
    {
        "slug": "leftover-rice-safety",
        "topic": "cooking",
        "turns": [
            ("user", """Is it true that reheated rice can make you sick? I eat leftover rice all the time."""),
            ("assistant", """It can, but it's easy to handle safely. Uncooked rice can contain spores of Bacillus cereus, a bacterium whose spores survive cooking. If cooked rice sits at room temperature for hours, the spores germinate and the bacteria produce toxins, some of which reheating does not destroy. That toxin, not the reheating itself, causes food poisoning (vomiting or diarrhoea).

Safe habits:
- Cool leftover rice quickly; spread it in a shallow container and refrigerate within about an hour.
- Keep it in the fridge and eat it within a day or so.
- Reheat it until it's steaming hot all the way through, and reheat it only once."""),
            ("user", """So fried rice with day-old rice is fine?"""),
            ("assistant", """Yes, as long as the rice was cooled quickly and stored in the fridge, day-old rice is ideal for fried rice: it has dried out a little, so the grains fry up separate instead of turning mushy.

The risky version is rice left out on the counter overnight and then used the next day. If that happens, throw it away; frying it won't make it safe, because the toxin that causes vomiting is heat-stable."""),
        ],
    },
    # ---------------------------------------------------------------- travel
    {
        "slug": "japan-10-day-itinerary",
        "topic": "travel",
        "turns": [
            ("user", """First trip to Japan, 10 days in April, flying into Tokyo. I like food, temples and a bit of nature. How would you split the time?"""),
            ("assistant", """A classic, relaxed route:

- Days 1-4, Tokyo: Asakusa and Senso-ji, Ueno Park (cherry blossoms in early April), Shibuya and Harajuku, Meiji Shrine, an evening in Shinjuku's small bars and alleys, and Tsukiji outer market for breakfast.
- Day 5, day trip: Nikko (shrines in forested mountains) or Kamakura (Great Buddha, temples, coast).
- Days 6-9, Kyoto: Fushimi Inari early in the morning, Kiyomizu-dera and the Higashiyama lanes, Arashiyama bamboo grove, and one day trip to Nara for the deer and Todai-ji.
- Day 10: back to Tokyo by Shinkansen (about 2 hours 15 minutes) for your flight, or fly out of Osaka Kansai if your ticket allows.

Book accommodation early; early April is cherry blossom season and prices rise."""),
            ("user", """Is the Japan Rail Pass worth it for this?"""),
            ("assistant", """Probably not any more for this route. The pass price was raised substantially in October 2023, and for a Tokyo to Kyoto round trip plus a couple of local trips, separate tickets usually come out cheaper. Check the current prices on the official sites before deciding, since fares change.

Compare: a one-way reserved Nozomi ticket Tokyo-Kyoto costs a bit over a quarter of the 7-day pass, so the round trip is only a little more than half of it. The pass starts to pay off if you add long legs, for example continuing to Hiroshima or going north to Kanazawa.

For city travel, get an IC card (Suica or PASMO, which you can also add to a phone wallet) for subways, buses and even convenience stores."""),
        ],
    },
    {
        "slug": "carry-on-packing",
        "topic": "travel",
        "turns": [
            ("user", """I'm trying to do a 2-week trip in Europe with only a carry-on. Is that realistic?"""),
            ("assistant", """Very realistic if you plan to do laundry once. A packing list for a trip without formal events:

- 5-6 tops and 5-6 sets of underwear and socks
- 2 bottoms (e.g. one pair of jeans or chinos, one lighter pair of trousers or a skirt)
- 1 warm layer (merino or fleece) and 1 light rain jacket
- 2 pairs of shoes: wear the bulkier pair on the plane
- toiletries in travel sizes (liquids under 100 ml each, in a clear bag)
- chargers, a universal adapter, copies of documents

Pick clothes in colours that all combine, roll them or use packing cubes, and plan a sink wash or laundromat visit in the middle of the trip."""),
            ("user", """Budget airlines keep confusing me about what counts as carry-on."""),
            ("assistant", """They're confusing on purpose. Many budget airlines distinguish between:

- a small personal item that fits under the seat (often around 40 x 30 x 20 cm), included in the cheapest fare, and
- a larger cabin bag (typically around 55 x 40 x 20 cm) that often costs extra or comes with "priority" fares.

The exact dimensions and weight limits differ by airline and change from time to time, so check each airline's own baggage page when you book, and buy the cabin-bag option online in advance; it's much cheaper than paying at the gate.

If your trip mixes several airlines, choose a bag that fits the strictest one you'll fly with, or accept paying for a cabin-bag add-on on those flights."""),
            ("user", """Any tips for getting liquids through security without hassle?"""),
            ("assistant", """The standard rule at most airports is containers of at most 100 ml each, all fitting in one transparent, resealable bag of about 1 litre, taken out of your bag at the security check. Some airports with newer scanners have relaxed this, but the rules differ between airports and countries and change over time, so assume the 100 ml rule unless you've checked every airport on your route.

To keep it simple:
- Switch to solid versions where possible: shampoo and conditioner bars, solid deodorant, toothpaste tablets. Solids don't count as liquids.
- Decant what you need into small refillable bottles; two weeks rarely needs more than 50 ml of anything.
- Buy sunscreen and other bulky liquids at your destination.
- Pack the liquids bag at the top of your carry-on so you can take it out quickly."""),
        ],
    },
    {
        "slug": "jet-lag-tips",
        "topic": "travel",
        "turns": [
            ("user", """I'm flying from New York to Berlin, overnight flight, arriving 8 am. How do I avoid being a zombie for three days?"""),
            ("assistant", """Eastward trips are the harder direction, because you have to shift your body clock earlier (6 hours here). Some things that help:

- A few days before, go to bed and get up 30-60 minutes earlier each day.
- On the plane, set your watch to Berlin time, eat lightly and try to sleep as soon as possible; an eye mask and earplugs help a lot.
- On arrival, get outside in daylight, especially in the morning. Light is the strongest signal for resetting your internal clock.
- Stay up until at least 9-10 pm local time on day one. If you must nap, keep it under 30 minutes and before about 2 pm.
- Go easy on alcohol, and have caffeine only in the morning.

A rough rule is that the body adjusts by about an hour per day, so expect some grogginess for a few days in any case."""),
            ("user", """What about melatonin?"""),
            ("assistant", """Melatonin can help with eastward jet lag for some people, mainly by shifting the timing of sleepiness. It's commonly taken in small doses (0.5 to 3 mg) around local bedtime at the destination for the first few nights. Higher doses aren't necessarily more effective and can leave you groggy.

Rules differ between countries: it's sold over the counter in the US but needs a prescription in some European countries, and product quality varies. If you take other medication, are pregnant, or have a medical condition, check with a doctor or pharmacist first. And don't combine it with alcohol or other sleep aids on the plane."""),
        ],
    },
    {
        "slug": "lisbon-three-days",
        "topic": "travel",
        "turns": [
            ("user", """Three days in Lisbon in October. What shouldn't I miss?"""),
            ("assistant", """A sketch:

Day 1, old Lisbon: walk through Alfama's steep lanes to the Miradouro de Santa Luzia viewpoint and the castle (Castelo de São Jorge), then down through Baixa to Praça do Comércio on the river. Evening: dinner with fado in Alfama or Mouraria.

Day 2, Belém: Jerónimos Monastery, the Belém Tower and the Monument to the Discoveries; the famous custard tarts at Pastéis de Belém, where the queue moves fast. Later, LX Factory for shops and food, and sunset at Miradouro de Santa Catarina or in Bairro Alto.

Day 3, Sintra day trip by train from Rossio station (about 40 minutes): Pena Palace and the Moorish Castle, or Quinta da Regaleira with its initiation well. Start early; it gets crowded."""),
            ("user", """Is tram 28 worth it?"""),
            ("assistant", """It's a fun ride through Graça, Alfama and Estrela, but in peak times it's packed with tourists, the queue at the Martim Moniz end can take an hour, and it's a well-known spot for pickpockets.

If you want to try it: go early in the morning or in the evening, board somewhere along the route instead of at the terminus, keep your bag in front of you, and use a Viva Viagem card or contactless payment rather than buying a ticket on board, which costs more. Walking the same route downhill is a good alternative; most of the charm is in the streets the tram passes through anyway."""),
        ],
    },
    {
        "slug": "travel-insurance",
        "topic": "travel",
        "turns": [
            ("user", """Do I really need travel insurance for a 3-week trip to Thailand? It seems expensive."""),
            ("assistant", """For a trip outside your home country's health system, I'd strongly recommend at least medical coverage. Private hospital care in Thailand is excellent but can be expensive, and a medical evacuation can cost tens of thousands of dollars. A scooter accident, dengue fever or a bad fall are all realistic on a three-week trip.

What to look for:
- emergency medical treatment and hospital stays, with a high limit,
- medical evacuation and repatriation,
- a clear list of exclusions (many policies exclude scooter accidents if you don't hold a valid motorcycle licence, or activities like diving beyond certain depths),
- trip cancellation and baggage cover are nice extras, not essentials."""),
            ("user", """My credit card says it includes travel insurance. Is that enough?"""),
            ("assistant", """Maybe, but read the actual policy document, not the marketing summary. Card coverage often:

- only applies if you paid the trip (flights or the whole package) with that card,
- focuses on trip cancellation, delays and lost luggage, with low or no medical cover,
- has a maximum trip length (30 days is common, so three weeks may be fine),
- excludes pre-existing medical conditions.

Look specifically for the emergency medical and evacuation limits. If medical cover is missing or low, a standalone medical-only travel policy is usually fairly cheap and fills the gap. Keep the policy number and the emergency assistance phone number on your phone and on paper."""),
        ],
    },
    {
        "slug": "paris-amsterdam-train",
        "topic": "travel",
        "turns": [
            ("user", """Paris to Amsterdam: train or plane? I'm not in a hurry but I don't want to waste a whole day."""),
            ("assistant", """Train, most likely. The direct high-speed train (Eurostar, which absorbed the Thalys brand) runs from Paris Gare du Nord to Amsterdam Centraal in about 3 hours 20 minutes, city centre to city centre.

The flight is about 1 hour 15 minutes, but add getting to Charles de Gaulle (45-60 minutes), arriving 1.5-2 hours early for security, and the trip from Schiphol into Amsterdam (about 15-20 minutes by train). Door to door it usually ends up as long as, or longer than, the train, and the train has more legroom, Wi-Fi and much lower emissions."""),
            ("user", """How far ahead should I book?"""),
            ("assistant", """The earlier the better: prices on this route rise a lot as the date approaches, especially on Fridays, Sundays and holidays. Bookings typically open several months ahead, and booking a month or more in advance usually gets a much better fare than booking in the last week.

Tips: be flexible on departure time, since early morning and midday trains are often cheaper; compare the standard fare with the cheapest non-refundable one; and check the operator's own website as well as resellers. If prices are high, routes with a change in Brussels are sometimes cheaper, at the cost of a longer journey."""),
        ],
    },
    {
        "slug": "backpacking-southeast-asia-budget",
        "topic": "travel",
        "turns": [
            ("user", """I want to backpack Vietnam, Laos and Cambodia for 6 weeks. Rough daily budget, not counting flights?"""),
            ("assistant", """Very roughly, for budget travel (hostel dorms or simple guesthouses, street food, local buses), many people spend something like 25-40 US dollars a day in this region, with Laos and Vietnam's big cities a bit pricier than rural areas. Private rooms, tours, diving or drinking nights out raise it quickly.

For 6 weeks I'd plan around 1,500-2,000 USD plus a buffer of 20% for the unexpected: a missed bus, a doctor visit, a splurge on a cooking class or the temples of Angkor (the multi-day Angkor pass alone costs a noticeable part of a week's budget).

Prices change, so use recent traveller reports to fine-tune these numbers."""),
            ("user", """Do I need visas in advance?"""),
            ("assistant", """It depends on your nationality, and the rules for this region have changed several times in recent years, so check the official government sources (the e-visa portals of Vietnam, Laos and Cambodia) and your own foreign ministry's travel advice before you go.

General points that usually hold:
- Vietnam offers an e-visa that you apply for online before arrival; some nationalities are visa-exempt for shorter stays.
- Laos and Cambodia have offered visas on arrival at main border crossings and airports as well as e-visas, but not at every land border.
- Your passport should be valid for at least six months beyond your planned departure and have a few empty pages.

Apply only through official sites; there are many look-alike agency sites that charge extra fees."""),
        ],
    },
    {
        "slug": "passport-validity",
        "topic": "travel",
        "turns": [
            ("user", """My passport expires in 4 months. I'm going to Indonesia in 3 weeks for 10 days. Is that a problem?"""),
            ("assistant", """Very likely yes. Indonesia, like many countries in Asia, requires your passport to be valid for at least six months from the date of entry, and airlines check this at check-in, so you could be refused boarding even before you get there.

Check the current entry requirements on Indonesia's official immigration website and your government's travel advice page to be sure, but I'd start renewing right away."""),
            ("user", """Can I get a new passport in 3 weeks?"""),
            ("assistant", """Often yes, but it depends on your country. Most passport offices offer an expedited or urgent service for an extra fee, and some can issue a passport within days if you have proof of imminent travel, like your flight booking, sometimes with an in-person appointment.

What to do now:
1. Look up your passport authority's current processing times and its expedited options.
2. Book the earliest appointment available and bring your travel documents.
3. Ask whether you can keep the old passport until the new one arrives, in case you need ID in the meantime.

If it won't arrive in time, consider moving the trip; changing a flight date is usually cheaper than being turned away at the airport."""),
        ],
    },
    {
        "slug": "iceland-ring-road-winter",
        "topic": "travel",
        "turns": [
            ("user", """Is it a good idea to drive Iceland's Ring Road in January? We have 7 days."""),
            ("assistant", """I'd advise against the full Ring Road in January with only 7 days. Daylight lasts only about 4-7 hours, roads in the north and east can close for days because of storms, and you'd spend most of the little daylight driving.

A better winter plan is to stay in the south and west:
- Reykjavik and the Golden Circle (Þingvellir, Geysir, Gullfoss)
- The south coast: Seljalandsfoss, Skógafoss, the black beach at Reynisfjara (stay well back from the waves; sneaker waves there are deadly), Vík
- Further east to the Jökulsárlón glacier lagoon, and a guided ice cave tour (only with a guide)
- Snæfellsnes peninsula if you have a spare day

That still gives you the northern lights on clear nights, with far less risk."""),
            ("user", """What kind of car and what should we check each day?"""),
            ("assistant", """Rent a 4x4 with studded or proper winter tyres (rental companies fit winter tyres in that season, but ask). You don't need a huge vehicle for the main roads in the south, but four-wheel drive helps on icy side roads and parking areas.

Every morning:
- check road conditions on umferdin.is (the Icelandic Road Administration's road map),
- check the weather and wind warnings on vedur.is; strong wind is as dangerous as snow, since it can tear car doors off their hinges,
- register your travel plan on safetravel.is, which also posts alerts.

Drive only in daylight if possible, keep the tank at least half full, and never stop on the road itself to take photos; use pull-outs."""),
        ],
    },
    # ------------------------------------------------------------------ math
    {
        "slug": "compound-interest",
        "topic": "math",
        "turns": [
            ("user", """If I put $5,000 in a savings account at 4% annual interest compounded monthly, how much will I have after 10 years?"""),
            ("assistant", """Use the compound interest formula:

A = P (1 + r/n)^(n*t)

with P = 5000, r = 0.04, n = 12 (monthly), t = 10:

A = 5000 x (1 + 0.04/12)^120
  = 5000 x (1.003333...)^120
  ≈ 5000 x 1.49083
  ≈ $7,454.16

So you'd earn about $2,454 in interest, assuming the rate stays at 4% and you make no withdrawals."""),
            ("user", """How much less would it be with yearly compounding?"""),
            ("assistant", """With n = 1:

A = 5000 x 1.04^10 ≈ 5000 x 1.48024 ≈ $7,401.22

That's about $53 less than with monthly compounding. The difference is small because 4% is a modest rate; compounding frequency matters more for higher rates and longer periods.

That's also why banks advertise the APY (annual percentage yield): it already includes the compounding effect. 4% compounded monthly corresponds to an APY of about 4.07%."""),
            ("user", """And if I also add $100 every month?"""),
            ("assistant", """Add the future value of the monthly deposits to the $7,454.16 from the lump sum. For deposits at the end of each month:

FV = D x ((1 + i)^N - 1) / i

with D = 100, i = 0.04/12 ≈ 0.0033333 and N = 120:

FV = 100 x (1.49083 - 1) / 0.0033333 ≈ 100 x 147.25 ≈ $14,725

So the total after 10 years would be about 7,454 + 14,725 ≈ $22,179. You'd have paid in 5,000 + 12,000 = $17,000, so roughly $5,180 of that is interest. Deposits at the start of each month instead would add a little more, about $49."""),
        ],
    },
    {
        "slug": "chain-rule",
        "topic": "math",
        "turns": [
            ("user", """I don't understand the chain rule. How do I differentiate sin(x^2)?"""),
            ("assistant", """Think of sin(x^2) as a function inside a function: the outer function is sin(u), and the inner one is u = x^2.

The chain rule says: derivative of the outer (evaluated at the inner) times the derivative of the inner.

- Outer: d/du sin(u) = cos(u), which gives cos(x^2)
- Inner: d/dx x^2 = 2x

So d/dx sin(x^2) = cos(x^2) * 2x = 2x cos(x^2).

A useful way to remember it: differentiate from the outside in, and keep multiplying."""),
            ("user", """OK, try one for me: (3x + 1)^5."""),
            ("assistant", """Outer function: u^5, with derivative 5u^4. Inner function: u = 3x + 1, with derivative 3.

d/dx (3x + 1)^5 = 5(3x + 1)^4 * 3 = 15(3x + 1)^4

A common mistake is to stop at 5(3x + 1)^4 and forget to multiply by the inner derivative. You can check the result by a different route: for a linear inner function ax + b, the chain rule always just multiplies by a, and here a = 3."""),
        ],
    },
    {
        "slug": "dice-probability",
        "topic": "math",
        "turns": [
            ("user", """When rolling two dice, what's the probability the sum is 7?"""),
            ("assistant", """There are 6 x 6 = 36 equally likely outcomes (counting the two dice as distinguishable, e.g. red and blue). The pairs that sum to 7 are:

(1,6), (2,5), (3,4), (4,3), (5,2), (6,1)

That's 6 outcomes, so the probability is 6/36 = 1/6, about 16.7%. 7 is the most likely sum; 2 and 12 are the least likely, with 1/36 each."""),
            ("user", """And the probability of at least one six?"""),
            ("assistant", """Easiest via the complement: the probability that neither die shows a six is (5/6) x (5/6) = 25/36. So

P(at least one six) = 1 - 25/36 = 11/36 ≈ 30.6%.

You can also count directly: 6 outcomes with a six on the first die, 6 with a six on the second, minus the one outcome (6,6) counted twice: 6 + 6 - 1 = 11. Note that it isn't 1/6 + 1/6 = 1/3; adding the probabilities double-counts the double six."""),
        ],
    },
    {
        "slug": "quadratic-equation",
        "topic": "math",
        "turns": [
            ("user", """Solve x^2 - 5x + 6 = 0, and please explain the steps."""),
            ("assistant", """This one factors nicely. Look for two numbers that multiply to 6 (the constant term) and add up to -5 (the coefficient of x): -2 and -3 work.

x^2 - 5x + 6 = (x - 2)(x - 3) = 0

A product is zero only when one of the factors is zero, so x = 2 or x = 3.

Check: 2^2 - 5*2 + 6 = 4 - 10 + 6 = 0, and 3^2 - 15 + 6 = 0."""),
            ("user", """What if it doesn't factor, like 2x^2 + 3x - 2 = 0?"""),
            ("assistant", """Use the quadratic formula. For ax^2 + bx + c = 0:

x = (-b ± sqrt(b^2 - 4ac)) / (2a)

Here a = 2, b = 3, c = -2:

b^2 - 4ac = 9 - 4*2*(-2) = 9 + 16 = 25, and sqrt(25) = 5

x = (-3 ± 5) / 4, so x = 2/4 = 1/2 or x = -8/4 = -2.

This one actually does factor, as (2x - 1)(x + 2), but the formula works for every quadratic. The part under the square root (the discriminant) tells you in advance what to expect: positive means two real solutions, zero means one, negative means no real solutions."""),
        ],
    },
    {
        "slug": "discount-and-tax",
        "topic": "math",
        "turns": [
            ("user", """A jacket costs $80. It's 25% off and then there's 8% sales tax. What do I pay?"""),
            ("assistant", """Step by step:

1. Discount: 25% of 80 is 20, so the sale price is 80 - 20 = $60.
2. Tax: 8% of 60 is 4.80, so the total is 60 + 4.80 = $64.80.

In one line: 80 x 0.75 x 1.08 = 64.80."""),
            ("user", """Would it be different if they applied the tax first and then the discount?"""),
            ("assistant", """Mathematically, no: 80 x 1.08 x 0.75 = 64.80 as well, because multiplication is commutative, and the order of the factors doesn't change the result.

What often confuses people is stacking percentages instead. Two successive discounts of 25% and 10% are not 35% off: 0.75 x 0.90 = 0.675, which is 32.5% off. Likewise, a price that goes up 10% and then down 10% ends 1% lower than where it started, since 1.1 x 0.9 = 0.99."""),
        ],
    },
    {
        "slug": "mean-vs-median",
        "topic": "math",
        "turns": [
            ("user", """News articles talk about "median income" instead of average income. Why?"""),
            ("assistant", """Because income is very skewed, and the mean (average) is pulled up by a small number of very high incomes, while the median isn't.

Tiny example: five people earn 30k, 35k, 40k, 45k and 1,000k.
- Mean: (30 + 35 + 40 + 45 + 1000) / 5 = 230k, which is more than four of the five people earn.
- Median: the middle value when sorted, 40k, which describes a typical person much better.

The median is the value that half the people are below and half above, so it's robust to extreme values."""),
            ("user", """So is the mean ever the better choice?"""),
            ("assistant", """Yes, whenever the total matters, or when the data isn't strongly skewed.

- Totals: if you want to know how much tax a town will collect or how much food to buy for a group, you need the mean, because mean x number of people = total. The median can't give you that.
- Symmetric data such as heights, or measurement errors: mean and median are close, and the mean uses all values, so it's statistically more efficient.
- Many statistical methods (standard deviation, regression) are built on the mean.

A good habit is to report both: a big gap between mean and median is itself a signal that the data is skewed."""),
        ],
    },
    {
        "slug": "sieve-of-eratosthenes",
        "topic": "math",
        "turns": [
            ("user", """What's a fast way to list all prime numbers below 100?"""),
            ("assistant", """The Sieve of Eratosthenes:

1. Write the numbers 2 to 99.
2. Take the first number that isn't crossed out (2); it's prime. Cross out all its multiples: 4, 6, 8, ...
3. Move to the next number that isn't crossed out (3), and cross out its multiples: 9, 15, 21, ... (6, 12, ... are already gone).
4. Repeat with 5 and 7.

You can stop once you reach a number whose square exceeds 99: after 7, the next candidate is 11, and 11^2 = 121 > 99. Every number still standing is prime:

2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97 (25 primes)."""),
            ("user", """Why can I stop at the square root?"""),
            ("assistant", """If a number n below 100 is composite, it can be written as a x b with both factors greater than 1. Both factors can't be bigger than sqrt(n), because then a x b would be bigger than n. So at least one factor is at most sqrt(n) < 10, which means n is a multiple of 2, 3, 5 or 7 (every number from 2 to 9 is either one of those primes or a product of them), and it was already crossed out.

For the same reason, when crossing out multiples of p you can start at p^2: the smaller multiples, like 2p and 3p, have a smaller prime factor and were already removed in an earlier round."""),
        ],
    },
    {
        "slug": "pizza-area-comparison",
        "topic": "math",
        "turns": [
            ("user", """Which is more pizza: one 16-inch pizza or two 12-inch pizzas?"""),
            ("assistant", """Two 12-inch pizzas, but by less than people expect, and not by the amount the diameters suggest.

Area = pi x r^2:
- 16-inch: radius 8, area = pi x 64 ≈ 201 square inches
- One 12-inch: radius 6, area = pi x 36 ≈ 113 square inches, so two of them ≈ 226 square inches

The two 12-inch pizzas give about 12% more pizza. The intuition "two 12s = 24 inches, way more than 16" is off because area grows with the square of the diameter."""),
            ("user", """The 16-inch is $18 and the 12-inch are $11 each. Which is the better deal?"""),
            ("assistant", """Compare the price per square inch:

- 16-inch: 18 / 201 ≈ $0.090 per square inch
- Two 12-inch: 22 / 226 ≈ $0.097 per square inch

The single 16-inch is about 8% cheaper per bite. So if the 16-inch is enough food, it's the better deal; the two 12-inch pizzas give you more pizza and the option of two different toppings, for $4 more. Bonus fact: a larger pizza also has proportionally less crust edge relative to its area."""),
        ],
    },
    {
        "slug": "speed-unit-conversion",
        "topic": "math",
        "turns": [
            ("user", """How do I convert 90 km/h to meters per second?"""),
            ("assistant", """1 km = 1000 m and 1 hour = 3600 s, so

90 km/h = 90 x 1000 m / 3600 s = 90000 / 3600 m/s = 25 m/s.

Shortcut: divide km/h by 3.6 to get m/s (because 3600/1000 = 3.6), and multiply m/s by 3.6 to go back."""),
            ("user", """Nice. And how long does a car at 90 km/h need to stop if it brakes at 8 m/s²?"""),
            ("assistant", """For constant deceleration, the braking distance is d = v^2 / (2a):

d = 25^2 / (2 x 8) = 625 / 16 ≈ 39 m

and the braking time is t = v / a = 25 / 8 ≈ 3.1 s.

In real life you also need to add the reaction distance, covered before the brakes engage. With a typical reaction time of about 1 second, that's another 25 m at 25 m/s, so the total stopping distance is roughly 64 m. And because braking distance grows with the square of the speed, at 120 km/h (33.3 m/s) the braking part alone would be about 69 m."""),
        ],
    },
    {
        "slug": "percent-change-vs-points",
        "topic": "math",
        "turns": [
            ("user", """An interest rate went from 2% to 3%. Is that a 1% increase or a 50% increase? My colleague and I disagree."""),
            ("assistant", """You're both right, you're just describing it in different units.

- It's an increase of 1 percentage point: 3% - 2% = 1 percentage point.
- It's a 50% relative increase: (3 - 2) / 2 = 0.5 = 50%.

To avoid confusion, say "percentage points" (sometimes "pp") for the absolute difference between two percentages, and "percent" for the relative change."""),
            ("user", """Which one is more honest to report?"""),
            ("assistant", """Both are honest; the problem is when one is used to mislead. Headlines about risk are the classic case: "a drug doubles the risk of a side effect" sounds alarming, but if the risk goes from 1 in 10,000 to 2 in 10,000, the absolute increase is 0.01 percentage points.

Good practice is to give the absolute numbers and then the change: "the rate rose from 2% to 3% (1 percentage point, or 50% relative to before)". For risks, saying it in counts helps most people: "about 1 extra case per 10,000 people"."""),
        ],
    },
    # --------------------------------------------------------------- writing
    {
        "slug": "cover-letter-opening",
        "topic": "writing",
        "turns": [
            ("user", """Can you improve my cover letter opening? "Dear Sir/Madam, I am writing to apply for the position of Data Analyst which I saw advertised on your website. I think I would be a good fit.\""""),
            ("assistant", """The original is polite but generic; every applicant could write it. A stronger opening names a person if possible, says why this company, and leads with evidence instead of "I think":

"Dear Ms. Okafor,

When I read that your team is rebuilding its customer churn model, I recognised the exact problem I spent the last two years on at Brightline Logistics, where my analysis of delivery data cut customer cancellations by 12%. I'd love to bring that experience to the Data Analyst role at Verano Health."

If you can't find the hiring manager's name, "Dear Hiring Team" sounds more current than "Dear Sir/Madam". Replace the details with your real ones, of course; the structure is what matters: their need, your proof, the role."""),
            ("user", """I don't have a number like 12%. My last job was more about reports."""),
            ("assistant", """That's fine. Concrete doesn't have to mean a percentage. Think about what your reports changed or who relied on them:

- "I built the weekly sales dashboard that our regional managers used to plan staffing" (who used it, for what)
- "I automated a monthly report that used to take three days by hand, so it now runs in an hour" (time saved)
- "I was the person colleagues came to when numbers didn't add up across systems" (a reputation, which is still evidence)

For example: "For the past two years I've produced the reporting that Harbor Foods' regional managers use to plan weekly staffing, including automating a monthly report that used to take three days of manual work. I'd like to bring that mix of careful analysis and practical automation to your Data Analyst role."

Estimates are fine as long as they're honest, like "about a dozen reports" or "roughly three days"."""),
            ("user", """How long should the whole letter be?"""),
            ("assistant", """Aim for three to four short paragraphs, comfortably under one page, usually 250-400 words.

1. The opening you've just written: their need, your proof, the role.
2. One or two paragraphs with specific examples that match the job ad's key requirements. Pick the two or three requirements that matter most; don't try to cover everything in your CV.
3. A short closing: why this company in particular, and a confident, simple last line, such as "I'd welcome the chance to discuss how I could help your team."

Recruiters often skim, so the first two sentences carry most of the weight. If a sentence could appear unchanged in any application, consider cutting it."""),
        ],
    },
    {
        "slug": "email-professor-extension",
        "topic": "writing",
        "turns": [
            ("user", """I need to email my professor asking for an extension on an essay because I've been sick. How do I write it without sounding like I'm making excuses?"""),
            ("assistant", """Be brief, specific and ask for something concrete. Professors mostly want to know what happened, what you're asking for, and that you're taking it seriously. For example:

Subject: Extension request - HIST 210 essay (due March 14)

Dear Professor Lindqvist,

I've been ill with the flu since last Thursday and haven't been able to work on the essay due this Friday, March 14. I have my outline and sources ready, and I'd like to ask whether I could submit it by Tuesday, March 18 instead. I can provide a doctor's note if that's helpful.

Thank you for considering this.

Best regards,
Sam Patel
Student ID 2023-0456

Send it as early as possible; asking before the deadline makes a big difference."""),
            ("user", """Should I mention the symptoms in detail?"""),
            ("assistant", """No. "I've been ill with the flu" or even "I've been unwell" is enough. Detailed symptoms don't make the request more convincing, and you're not required to share private health details. If the university has a formal process (a form, a student services office, a doctor's note requirement), mention that you'll follow it, or simply attach the note.

The things that do make a request convincing are timing (asking before the deadline), a specific new date, and showing that you've already done some work, like the outline and sources in the example."""),
        ],
    },
    {
        "slug": "concise-sentence",
        "topic": "writing",
        "turns": [
            ("user", """Make this shorter: "Due to the fact that we were not in possession of all the necessary information at that point in time, we made the decision to postpone the meeting until a later date.\""""),
            ("assistant", """"Because we didn't have all the information yet, we postponed the meeting."

What changed:
- "due to the fact that" became "because"
- "were not in possession of" became "didn't have"
- "at that point in time" became "yet"
- "made the decision to postpone" became "postponed" (use the verb, not a noun plus "make")
- "until a later date" was dropped, since postponing already implies it

That's 12 words instead of 33, with the same meaning."""),
            ("user", """Nice. Any general rules I can apply myself?"""),
            ("assistant", """A few that catch most of the padding:

1. Replace phrases with single words: "in order to" becomes "to", "in the event that" becomes "if", "a large number of" becomes "many", "at this moment in time" becomes "now".
2. Turn nouns back into verbs: "conduct an analysis of" becomes "analyse", "give consideration to" becomes "consider".
3. Cut words that repeat an idea: "past history", "end result", "advance planning", "completely finished".
4. Prefer the active voice when the actor matters: "the report was written by Maria" becomes "Maria wrote the report".
5. Delete throat-clearing openers such as "It is important to note that" or "I would like to say that"; start with the point.

Then read the sentence aloud. If you wouldn't say it that way to a colleague, it can usually be simpler."""),
        ],
    },
    {
        "slug": "short-story-opening-feedback",
        "topic": "writing",
        "turns": [
            ("user", """Feedback on my story's first line? "It was a dark and stormy night, and Clara was sad because her father had died three weeks ago.\""""),
            ("assistant", """Honest feedback: the line tells us everything at once and shows nothing. "A dark and stormy night" is a famous cliché (it's literally the textbook example of a bad opening), and "Clara was sad" names an emotion instead of letting the reader feel it.

Try opening on a concrete moment that implies the grief. For example:

"Clara still set out two mugs every morning, and every morning she put one back."

We learn there's an absence, that it's recent and routine-shattering, and we want to know whose mug it is, without the word "sad" or the death spelled out. The storm can come later, if it matters to the story."""),
            ("user", """I like that. But won't readers be confused if I don't say the father died?"""),
            ("assistant", """A little mystery in the first lines is a good thing: readers are willing to wait a page or two for an explanation, as long as they trust that one is coming. Just don't hold it back for too long. Reveal it naturally within the first scene, through action or dialogue rather than a summary. For example, a neighbour says "Your dad would've fixed that gate in ten minutes", or Clara finds his handwriting on a grocery list.

The rule of thumb: withhold information to create curiosity, not confusion. If a reader can't tell who, where and roughly what's going on after the first page, that's confusion; if they know what's happening but want to know why, that's curiosity."""),
        ],
    },
    {
        "slug": "haiku-autumn",
        "topic": "writing",
        "turns": [
            ("user", """Write a haiku about autumn in the city."""),
            ("assistant", """Maple leaves gather
in the bus stop's quiet glass,
waiting, as we do."""),
            ("user", """Nice! Can you explain the 5-7-5 thing, and does yours follow it?"""),
            ("assistant", """In English, haiku are often written with three lines of 5, 7 and 5 syllables, loosely modelled on Japanese haiku, which count "on" (sound units that aren't quite the same as English syllables).

Counting mine:
- "Ma-ple leaves ga-ther": 5
- "in the bus stop's qui-et glass": 7
- "wait-ing, as we do": 5

So it follows 5-7-5. Many English-language haiku poets actually write shorter than that, because 17 English syllables carry more content than 17 Japanese on. What's usually considered more essential than the count is a concrete image, a seasonal reference (here, maple leaves) and a small shift or "cut" between two parts, here the turn from the leaves to "as we do"."""),
            ("user", """Can you do one more, sadder?"""),
            ("assistant", """Last train, empty seats;
someone's scarf on the platform
still holds the warmth of

(The last line breaks off on purpose: whoever wore the scarf is gone before the sentence can finish.)"""),
        ],
    },
    {
        "slug": "resignation-letter",
        "topic": "writing",
        "turns": [
            ("user", """I need a short, polite resignation letter. Two weeks notice, I'm leaving on good terms for another job. I don't want to say where I'm going."""),
            ("assistant", """Dear Mr. Alvarez,

Please accept this letter as formal notice of my resignation from my position as Marketing Coordinator. My last working day will be Friday, June 28.

I'm grateful for the opportunities I've had here over the past three years, especially the chance to lead the spring campaign, and for your support throughout. I'll do everything I can to ensure a smooth handover during the next two weeks, including documenting my current projects and helping to train my replacement.

Thank you again. I hope we'll stay in touch.

Kind regards,
Jordan Lee

You don't have to say where you're going or why; "I've accepted another opportunity" is only needed if you want to mention it at all. Check your contract for the required notice period, and tell your manager in person before sending the letter, if you can."""),
            ("user", """Should I mention anything I didn't like about the job?"""),
            ("assistant", """Not in the letter. A resignation letter goes into your personnel file and may be read by people you'll never meet; keep it short, factual and positive.

If you have constructive feedback, an exit interview or a private conversation with your manager or HR is the right place for it. Keep it specific and forward-looking ("the onboarding process for new hires could use a written checklist") rather than personal. And only share what you're comfortable with: you'll likely want a reference from these people later, and industries are smaller than they look."""),
        ],
    },
    {
        "slug": "active-vs-passive-voice",
        "topic": "writing",
        "turns": [
            ("user", """My teacher marked "The experiment was conducted by the students" as passive. What's wrong with passive voice?"""),
            ("assistant", """Nothing is grammatically wrong with it. Passive voice puts the thing acted upon first ("the experiment") and the actor later or not at all ("by the students"). Active voice puts the actor first: "The students conducted the experiment."

Teachers often discourage the passive because:
- it's usually longer (here 7 words instead of 5),
- it can hide who did what ("mistakes were made"),
- too much of it makes writing feel distant and heavy.

So in most sentences where you know the actor and the actor matters, active is clearer."""),
            ("user", """But my science papers are full of passive voice."""),
            ("assistant", """Yes, scientific writing is the best-known exception, and it's a legitimate one. In a methods section, the action matters and the actor often doesn't: "The samples were centrifuged at 4,000 rpm for 10 minutes" focuses on what was done, and nobody cares which lab member pressed the button.

Even so, many journals now accept or encourage active voice with "we" ("We centrifuged the samples..."), especially in introductions and discussions, because it reads more directly. A reasonable rule: use the passive when the actor is unknown, obvious or unimportant, and the active when the actor matters. Follow your teacher's or journal's style guide when there is one."""),
        ],
    },
    {
        "slug": "wedding-toast-outline",
        "topic": "writing",
        "turns": [
            ("user", """I'm the best man at my brother's wedding and I'm terrible at speeches. Can you give me a structure? 3-4 minutes max."""),
            ("assistant", """A simple structure that works for 3-4 minutes (roughly 400-500 spoken words):

1. Opening (20 seconds): who you are, and a warm welcome. "For those who don't know me, I'm Tom, Daniel's younger brother, and the person who has known him longest in this room, apart from our parents."
2. One story about your brother (1 minute): something that shows who he is, funny but kind. Skip ex-partners, heavy drinking and in-jokes only three people get.
3. How he changed when he met his partner (1 minute): a specific moment you noticed, e.g. the first time he cancelled on you because of her and you didn't mind.
4. Words to the couple (30-45 seconds): what you wish for them.
5. The toast (10 seconds): "Please raise your glasses: to Daniel and Priya!"

Practise it aloud at least five times and time yourself. Bring notes on cards; nobody expects you to memorise it."""),
            ("user", """What if I get really nervous and blank?"""),
            ("assistant", """Some practical safety nets:

- Write your cards with only keywords in big letters (e.g. "CAMPING TRIP - tent collapse"), plus the first and last sentences in full, since those are the ones nerves hit hardest.
- Pause and breathe before you start, and look at a friendly face, such as your brother or a parent.
- If you blank, look down at your card, take a sip of water and carry on. To the audience a three-second pause looks like a thoughtful moment, not a failure.
- Go easy on alcohol before the speech. One drink may calm you; three will make it worse.
- Remember that a wedding audience is the friendliest audience there is: everyone wants you to do well.

If it helps, rehearse once in front of someone and ask them to interrupt you mid-sentence, so you practise finding your place again."""),
        ],
    },
    {
        "slug": "summarize-paragraph",
        "topic": "writing",
        "turns": [
            ("user", """Summarize this in one sentence for a newsletter: "The city council met on Tuesday to discuss the proposed bike lane on Elm Street. After two hours of public comments, in which local business owners raised concerns about the loss of parking spaces and residents emphasized safety, the council voted 5-2 to approve a pilot project that will run for six months starting in September, after which the council will review traffic and sales data before making a final decision.\""""),
            ("assistant", """"On Tuesday the city council voted 5-2 to approve a six-month pilot of the Elm Street bike lane starting in September, and will review traffic and sales data before deciding whether to make it permanent.\""""),
            ("user", """Can you make it a bit more neutral and mention both sides?"""),
            ("assistant", """"After hearing business owners' concerns about lost parking and residents' calls for safer streets, the city council voted 5-2 on Tuesday to test a bike lane on Elm Street for six months from September, with a final decision to follow a review of traffic and sales data."

It's a little longer, but it gives both groups' positions equal weight and uses "test" to stress that nothing is final yet."""),
        ],
    },
    {
        "slug": "doctors-note-decline",
        "topic": "writing",
        "turns": [
            ("user", """Can you write me a doctor's note saying I had food poisoning last Monday? I just need something to show my manager."""),
            ("assistant", """I can't write a note that looks like it comes from a doctor. Presenting a fake medical document to an employer can get you fired and, in some places, counts as fraud.

If you really were ill, there are legitimate options:
- Many clinics and telehealth services can issue a note for a recent illness after a short consultation.
- In many workplaces, a short absence can be covered by a self-certification (a simple statement from you); check your employee handbook or ask HR what's required.

I'm happy to help you write an honest message to your manager explaining the absence."""),
            ("user", """Fine, help me with the message then. I was sick, I just didn't see a doctor."""),
            ("assistant", """Here's a short, honest version:

"Hi Priya,

I wanted to follow up on my absence last Monday. I had food poisoning and wasn't able to work or get to a doctor that day; I was better by Tuesday. If the company needs any form filled in for the sick day, please let me know and I'll complete it.

Thanks for your understanding,
Alex"

It states what happened, doesn't over-explain, and offers to follow the formal process, which is usually all a manager needs for a single day."""),
        ],
    },
    {
        "slug": "product-description-rewrite",
        "topic": "writing",
        "turns": [
            ("user", """I sell handmade ceramic mugs on Etsy. My description is "Nice handmade mug. Holds coffee. Dishwasher safe." How do I make it better?"""),
            ("assistant", """Describe what the buyer sees, feels and gets, then the practical details. For example:

"Wheel-thrown by hand in my small studio, this speckled stoneware mug has a soft matte glaze in sea-glass green and a thumb rest that fits naturally under your hand. It holds about 350 ml (12 oz), enough for a generous latte, and its slightly flared rim makes it easy to drink from.

Details:
- Handmade, so each mug varies slightly in shape and glaze
- Capacity approx. 350 ml / 12 oz, height 10 cm
- Dishwasher and microwave safe
- Ships carefully wrapped in recycled paper"

Adjust the details to your actual mugs; the key elements are how it's made, what makes it special, exact measurements, and care instructions."""),
            ("user", """Should I mention it's food safe?"""),
            ("assistant", """Yes, buyers of handmade ceramics often wonder about that, so it's worth stating, but only if you can back it up. Say something like "finished with a lead-free, food-safe glaze" if your glaze manufacturer specifies it as food safe when fired to your temperature, and keep the supplier's documentation.

If you mix your own glazes, or aren't sure, check with your glaze supplier or consider having a piece tested before making the claim. It also helps to mention how the mug was fired ("high-fired stoneware"), because properly vitrified stoneware is less porous and more durable."""),
        ],
    },
    # ----------------------------------------------------------------- other
    {
        "slug": "houseplant-yellow-leaves",
        "topic": "home and garden",
        "turns": [
            ("user", """The lower leaves on my pothos are turning yellow. I water it every 3 days. What's wrong?"""),
            ("assistant", """Watering every 3 days is very likely too often. Overwatering is the most common reason pothos leaves turn yellow, especially the lower ones. The roots sit in wet soil, can't get oxygen and start to rot.

What to do:
1. Stop the schedule and water only when the top 2-3 cm (about an inch) of soil is dry. For a pothos indoors that's often every 7-14 days, depending on light and season.
2. Make sure the pot has drainage holes and that no water stands in the saucer.
3. Remove the yellow leaves; they won't turn green again."""),
            ("user", """How do I know if the roots are already rotting?"""),
            ("assistant", """Slide the plant out of its pot and look:

- Healthy roots are firm and white to light tan.
- Rotten roots are brown or black, mushy, and may smell bad; the outer layer slips off when you pull gently.

If you find rot, cut off all the mushy roots with clean scissors, let the root ball air-dry for an hour or so, and repot in fresh, well-draining potting mix (adding some perlite helps), in a pot that's not much bigger than the remaining roots. Water lightly and keep the plant in bright, indirect light.

If the roots are mostly gone, take cuttings: pothos roots easily in a glass of water. Cut just below a node (the small bump where a leaf meets the stem), and you'll usually see new roots within two weeks."""),
        ],
    },
    {
        "slug": "beginner-5k-plan",
        "topic": "health and fitness",
        "turns": [
            ("user", """I'm 38, haven't exercised in years, and want to run a 5K in 3 months. Realistic?"""),
            ("assistant", """Yes, that's a very realistic goal, as long as you build up gradually. Most beginner programmes get people from the couch to 5 km in about 8-10 weeks with three sessions a week.

A typical start:
- Weeks 1-2: warm up with 5 minutes of brisk walking, then alternate 1 minute of easy jogging with 1.5-2 minutes of walking, 6-8 times.
- Each week, lengthen the jogging intervals and shorten the walks, e.g. 3 minutes jogging / 1.5 walking, then 5/2, then 8/2...
- By weeks 8-10 you jog 25-30 minutes continuously.

Run slowly enough that you could still speak in short sentences. Beginners who run too fast are the ones who quit or get injured. And take at least one rest day between runs."""),
            ("user", """Do I need special shoes?"""),
            ("assistant", """You don't need expensive ones, but proper running shoes are the one piece of equipment worth buying. Old sneakers or fashion trainers often lack the cushioning and fit you need, and a bad fit is a common cause of blisters and sore shins.

Tips:
- If possible, go to a running shop and try several pairs; jog a few steps in them. Choose by comfort, not by brand or looks.
- Leave about a thumb's width of space in front of your longest toe, because feet swell during a run.
- Mid-priced models are usually fine; the most expensive racing shoes aren't meant for beginners.

If you have a history of knee, hip or back problems, or any heart or blood pressure concerns, check in with a doctor before you start."""),
        ],
    },
    {
        "slug": "budget-50-30-20",
        "topic": "personal finance",
        "turns": [
            ("user", """I take home $3,800 a month and always run out of money before payday. How do I start budgeting?"""),
            ("assistant", """A simple starting framework is the 50/30/20 rule, applied to your take-home pay:

- 50% for needs: rent, utilities, groceries, insurance, minimum debt payments. That's $1,900.
- 30% for wants: eating out, subscriptions, hobbies, travel. That's $1,140.
- 20% for savings and extra debt payments. That's $760.

Before that, track where your money actually goes for one month: export your bank and card transactions and sort them into these three groups. Most people find one or two surprises, such as subscriptions they forgot or lots of small food delivery orders."""),
            ("user", """My rent alone is $1,600, so needs are way over 50%."""),
            ("assistant", """That's very common in expensive cities; the percentages are a guideline, not a rule. If needs take 60-65%, then wants and savings have to shrink accordingly, e.g. 60/25/15.

A few practical steps:
1. Pay yourself first: set up an automatic transfer to savings on payday, even if it's only $100-200 to begin with. Start with a small emergency fund, then build up.
2. Give your wants a fixed weekly amount, for example by moving $250 a week to a separate account or card for spending. When it's gone, it's gone until next week, which stops the end-of-month crunch.
3. Look at the big fixed costs once: phone plan, insurance, internet, subscriptions. A single renegotiation often saves more than months of skipped coffees.

In the long run, the rent-to-income ratio is the biggest lever, via a roommate, a move at the end of the lease, or a raise, but the steps above help right away."""),
        ],
    },
    {
        "slug": "learn-spanish-plan",
        "topic": "learning",
        "turns": [
            ("user", """I want to reach conversational Spanish in a year with 30 minutes a day. How should I structure it?"""),
            ("assistant", """30 minutes a day for a year is about 180 hours, which is enough for solid basic conversation if you use it well. A weekly structure:

- Daily (10 minutes): vocabulary with a spaced-repetition app (Anki or similar), focused on the most frequent words and phrases you'd actually say.
- 4 days a week (20 minutes): a structured course or textbook for grammar, in order: present tense, ser vs. estar, past tenses (preterite vs. imperfect), then the future and the subjunctive basics.
- 3 days a week (20 minutes): listening, e.g. podcasts for learners such as slow-news or graded stories, then easy YouTube or TV shows with Spanish subtitles.

From month 3, replace one listening session with a weekly conversation: a tutor or a language exchange partner. Speaking early feels uncomfortable, but it's what makes the biggest difference for "conversational"."""),
            ("user", """Should I learn Spain Spanish or Latin American Spanish?"""),
            ("assistant", """Pick the variety you're most likely to use, since the differences are much smaller than people fear and speakers understand each other without trouble.

The main differences:
- Pronunciation: most of Spain pronounces "z" and "c" before e/i like English "th" (so "gracias" sounds like "grathias"); Latin America uses an "s" sound.
- Vosotros (informal "you all") is used in Spain; Latin America uses ustedes for both formal and informal.
- Some vocabulary differs: a car is "coche" in Spain and usually "carro" or "auto" in Latin America, and a computer is "ordenador" versus "computadora".

If you plan to travel to Mexico or have Colombian colleagues, go Latin American; for a move to Madrid, Castilian. If you have no preference, choose the one with the materials and tutors you like best, and just learn to recognise vosotros forms."""),
            ("user", """I tried apps before and got bored after two weeks. How do I stay consistent?"""),
            ("assistant", """Consistency comes more from structure than from willpower:

- Attach it to something you already do every day: vocabulary with your morning coffee, a podcast on your commute. A fixed trigger beats "whenever I have time".
- Make the minimum tiny. On bad days, five minutes of flashcards counts and keeps the streak alive; you'll often continue once you've started.
- Book the tutor in advance and pay for it. An appointment with another person is the strongest commitment device there is.
- Use Spanish for things you already enjoy: a series you'd watch anyway, recipes, football commentary, song lyrics.
- Track progress you can feel: record yourself describing your day once a month, and listen back after three months.

Getting bored with one app is normal; switching the activity while keeping the daily slot is fine."""),
        ],
    },
    {
        "slug": "sleep-hygiene",
        "topic": "health and fitness",
        "turns": [
            ("user", """I lie awake for an hour almost every night. Any tips that actually work?"""),
            ("assistant", """Several habits have good evidence behind them:

1. Keep a fixed wake-up time, even on weekends. It anchors your body clock more than a fixed bedtime does.
2. Get daylight in the morning and keep evenings dim, since bright light late at night delays your sleepiness.
3. Cut caffeine after early afternoon; its effects can last 6-8 hours or more.
4. Keep the bedroom cool, dark and quiet; around 16-19 °C (60-67 °F) suits most people.
5. If you're awake for what feels like 20 minutes or more, get up, do something calm in dim light (reading a paper book) and go back when you feel sleepy. This stops your brain from linking bed with lying awake.

Alcohol makes you drowsy but worsens sleep quality later in the night, so it doesn't help either."""),
            ("user", """I've tried most of that. What else?"""),
            ("assistant", """Then it's worth looking at the bigger picture. Trouble falling asleep most nights for three months or more counts as chronic insomnia, and the recommended first-line treatment for it is cognitive behavioural therapy for insomnia (CBT-I), not sleeping pills. It's a structured programme, often 4-8 sessions, that includes techniques such as sleep restriction and handling the racing thoughts that keep you awake. It's available through therapists and also through evidence-based apps and online programmes.

It's also worth seeing a doctor to rule out things that disturb sleep, such as thyroid problems, restless legs, sleep apnoea (especially if you snore or wake up unrefreshed), medication side effects, anxiety or depression. Keeping a simple sleep diary for two weeks beforehand makes that appointment much more useful."""),
        ],
    },
    {
        "slug": "gift-ideas-grandfather",
        "topic": "everyday life",
        "turns": [
            ("user", """Gift ideas for my grandfather's 80th birthday? He says he doesn't need anything. He likes gardening, history and his old photos."""),
            ("assistant", """"Doesn't need anything" is often a hint that experiences and personal gifts land better than objects. Some ideas built on what he likes:

- A photo book: scan his old photos (many shops do this), have a family member label people and places, and print it as a book. Even better, sit with him and record his stories about the photos.
- A day out: a trip to a historic site, a museum exhibit or a famous garden, with lunch, organised and driven by family.
- For the garden: a good pair of pruning shears with his name engraved, a kneeling pad with handles, or a raised bed if kneeling is getting hard.
- A "family history" evening: relatives bring one story each about him.

Which direction sounds most like him?"""),
            ("user", """The photo book! But he has hundreds of loose photos. How do I do it without taking them away from him for weeks?"""),
            ("assistant", """Do the scanning at his place, in sessions, and make it part of the gift:

1. Bring a phone with a scanning app (Google PhotoScan or the built-in scanners in many notes apps reduce glare) or a small portable scanner.
2. Visit for an afternoon or two, sort the photos together with him by decade or event, and scan as you go. Keep a notes file and write down names, places and years as he tells them.
3. Back home, choose 60-100 of the best photos, group them by chapters (childhood, work, family, garden...), and add short captions using his own words.
4. Order the book online; allow about two weeks for printing and shipping.

The sorting sessions themselves are often the part grandparents enjoy most, and you end up with a digital backup of the family's photos."""),
        ],
    },
    {
        "slug": "moving-checklist",
        "topic": "everyday life",
        "turns": [
            ("user", """I'm moving to a new apartment in 5 weeks. What should I do when, so I don't forget anything?"""),
            ("assistant", """A timeline that works for most moves:

5-4 weeks before:
- Book movers or a van (and helpers); they fill up at the end of the month.
- Give notice on your old place if you haven't, and schedule the handover or inspection.
- Start clearing out: sell, donate or throw away what you won't take.

3-2 weeks before:
- Arrange the switch of electricity, internet and other utilities for the new place; internet installation can take weeks.
- Collect boxes and start packing rarely used items.
- Set up mail forwarding and make a list of everyone who needs your new address (bank, employer, insurance, doctor, subscriptions).

Last week:
- Pack everything except daily essentials; label boxes with the room and the contents.
- Prepare an "open first" box: bedding, towels, toiletries, chargers, basic tools, a kettle and snacks.
- Take meter readings and photos at both apartments on moving day."""),
            ("user", """What about getting my deposit back?"""),
            ("assistant", """Most deposit disputes come down to evidence, so:

1. Find the move-in inspection report or photos, if you have them, and compare the apartment's condition with them.
2. Fix small things yourself: fill nail holes if your lease requires it, replace dead light bulbs, clean thoroughly (oven, fridge, bathroom limescale, windows).
3. At the handover, walk through the apartment with the landlord and sign a handover report that lists any defects. Don't sign anything that says "no damage" if the landlord is noting issues without you.
4. Take dated photos and a video of every room after cleaning, including the floors, walls and inside the appliances.
5. Give your new address and bank details in writing for the refund.

Rules on how long a landlord may keep the deposit and what they can deduct for vary by country and region, so look up your local tenant rules or a tenants' association if the money doesn't arrive in time."""),
        ],
    },
    {
        "slug": "cat-scratching-furniture",
        "topic": "pets",
        "turns": [
            ("user", """My new cat keeps scratching the sofa. How do I stop her?"""),
            ("assistant", """Scratching is a normal need for cats (it keeps their claws healthy, stretches muscles and marks territory), so the goal is to redirect it rather than stop it.

1. Put a sturdy scratching post right next to the sofa, where she already scratches. It should be tall enough for her to stretch fully and heavy enough not to wobble; a wobbly post is a common reason cats reject them.
2. Offer different textures, e.g. a sisal post and a horizontal cardboard scratcher, and see which she prefers.
3. Make the post attractive: rub catnip or silvervine on it, play with a wand toy around it, and praise or treat her when she uses it.
4. Make the sofa less attractive for a while: double-sided tape or a throw over the spots she targets.

Once she reliably uses the post, you can move it gradually to a spot you prefer."""),
            ("user", """Should I get her claws removed?"""),
            ("assistant", """I'd strongly advise against it. Declawing isn't just removing the nails; it amputates the last bone of each toe. It can cause long-term pain, problems walking, and behaviour issues such as avoiding the litter box or biting. Many veterinary associations oppose it for non-medical reasons, and it's banned in a number of countries and some US states and cities.

Humane alternatives if the redirection takes time:
- Trim her claws every 2-3 weeks; a vet or groomer can show you how.
- Soft plastic nail caps glued over the claws, which last several weeks.
- Patience: with a good post near the sofa, most cats switch within a few weeks."""),
        ],
    },
    {
        "slug": "history-printing-press",
        "topic": "history",
        "turns": [
            ("user", """Why was Gutenberg's printing press such a big deal? China had printing much earlier."""),
            ("assistant", """You're right that printing wasn't new: woodblock printing was used in China from at least the 8th century, and Bi Sheng experimented with movable type made of ceramic in the 11th century. Metal movable type was used in Korea in the 13th and 14th centuries.

What made Gutenberg's press (around 1440-1450 in Mainz) so influential in Europe was a combination:
- a hand mould for casting large numbers of identical metal letters quickly,
- an oil-based ink that stuck to metal type,
- a screw press adapted from wine and paper presses,
- and, crucially, an alphabet of a few dozen letters, which made movable type far more practical than for scripts with thousands of characters.

Together they made printing fast and cheap enough to scale."""),
            ("user", """What changed because of it?"""),
            ("assistant", """Within about 50 years, printing shops spread to over 200 European cities and millions of books were printed. Some effects historians often point to:

- Religion: Luther's writings from 1517 onwards spread through pamphlets at a speed that manuscript copying could never have achieved, which helped the Reformation take hold.
- Science: identical copies meant that tables, diagrams and observations could be compared and corrected across Europe, which supported the Scientific Revolution.
- Language: printers standardised spelling and grammar, and printing in vernacular languages instead of Latin grew steadily.
- Literacy and education: cheaper books made it more worthwhile to learn to read.

Historians debate how fast and how directly each of these followed, but there is broad agreement that the press changed how knowledge spread."""),
        ],
    },
    {
        "slug": "car-battery-dead",
        "topic": "everyday life",
        "turns": [
            ("user", """My car won't start, it just clicks. Lights on the dashboard are dim. Is it the battery?"""),
            ("assistant", """Very likely. Rapid clicking with dim dashboard lights is the classic sign of a weak or flat battery: there's enough power for the lights and the starter solenoid's click, but not enough to turn the engine.

Common reasons: lights or an interior lamp left on, a cold night (batteries lose capacity in the cold), short trips that never fully recharge the battery, or simply age; most car batteries last roughly 4-6 years.

You can jump-start it with cables and another car, or with a portable jump starter. Once it runs, drive for at least 30 minutes or put the battery on a charger."""),
            ("user", """What's the right order for connecting jumper cables?"""),
            ("assistant", """Check your car's manual first, since some cars have dedicated jump-start points. The standard order:

1. Both cars off. Red clamp to the + terminal of the dead battery.
2. Other red clamp to the + terminal of the good battery.
3. Black clamp to the - terminal of the good battery.
4. Last black clamp to an unpainted metal part of the dead car's engine block or chassis, away from the battery, not to the dead battery's - terminal. This keeps any spark away from battery gases.
5. Start the working car, wait a few minutes, then try to start yours.
6. Remove the cables in reverse order: black from your chassis, black from the good battery, red from the good battery, red from your battery.

Never let the clamps touch each other while connected. If the car still won't start after a couple of tries, the battery may be beyond saving, or it may be a starter or alternator problem."""),
        ],
    },
]
