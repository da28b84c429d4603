"""Plausible container log lines, by image.

The backend (and any unknown image) logs in the Spring Boot 3 console format
(``2026-01-05T10:00:00.123Z  INFO 1 --- [quickbite-backend] [main] logger : msg``);
postgres, redis and the nginx frontend log in their own formats, as they do
in a real cluster.  Each entry is ``(epoch_seconds, text)``.
"""

import datetime


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def spring(t, level, thread, logger, message, app='quickbite-backend'):
    return '%s %5s 1 --- [%s] [%15s] %-40s : %s' % (
        _iso(t), level, app, thread[-15:], logger[-40:], message)


def kind_of(image):
    image = (image or '').lower()
    if 'fluent-bit' in image:       # the default sidecar (a log shipper)
        return 'fluent-bit'
    for kind in ('postgres', 'redis', 'frontend', 'nginx'):
        if kind in image:
            return 'frontend' if kind == 'nginx' else kind
    return 'spring'


def startup_lines(image, pod_name, start, ready, version=None):
    """Lines a container prints from ``start`` until it is ready at ``ready``."""
    kind = kind_of(image)
    version = version or (image.rsplit(':', 1)[1] if ':' in (image or '') else 'latest')
    span = max(ready - start, 0.001)

    def at(frac):
        return start + span * frac

    if kind == 'postgres':
        def stamp(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3] + ' UTC'

        return [
            (at(0.0), '%s [1] LOG:  starting PostgreSQL %s on x86_64-pc-linux-gnu' % (stamp(at(0.0)), version)),
            (at(0.2), '%s [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432' % stamp(at(0.2))),
            (at(0.4), '%s [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"' % stamp(at(0.4))),
            (at(0.7), '%s [27] LOG:  database system was shut down at %s' % (stamp(at(0.7)), stamp(start - 60))),
            (at(1.0), '%s [1] LOG:  database system is ready to accept connections' % stamp(at(1.0))),
        ]
    if kind == 'redis':
        def stamp(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%d %b %Y %H:%M:%S.%f')[:-3]

        return [
            (at(0.0), '1:C %s # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo' % stamp(at(0.0))),
            (at(0.1), '1:C %s # Redis version=%s, bits=64, commit=00000000, modified=0, pid=1, just started'
             % (stamp(at(0.1)), version)),
            (at(0.3), '1:M %s * monotonic clock: POSIX clock_gettime' % stamp(at(0.3))),
            (at(0.6), '1:M %s * Running mode=standalone, port=6379.' % stamp(at(0.6))),
            (at(0.8), '1:M %s * Server initialized' % stamp(at(0.8))),
            (at(1.0), '1:M %s * Ready to accept connections tcp' % stamp(at(1.0))),
        ]
    if kind == 'fluent-bit':
        def stamp(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('[%Y/%m/%d %H:%M:%S]')

        return [
            (at(0.0), '%s [ info] [fluent bit] version=%s, commit=0000000000, pid=1' % (stamp(at(0.0)), version)),
            (at(0.5), '%s [ info] [input:tail:tail.0] initializing' % stamp(at(0.5))),
            (at(1.0), '%s [ info] [sp] stream processor started' % stamp(at(1.0))),
        ]
    if kind == 'frontend':
        def stamp(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y/%m/%d %H:%M:%S')

        return [
            (at(0.0), '/docker-entrypoint.sh: Configuration complete; ready for start up'),
            (at(0.5), '%s [notice] 1#1: using the "epoll" event method' % stamp(at(0.5))),
            (at(0.8), '%s [notice] 1#1: nginx/1.25.3' % stamp(at(0.8))),
            (at(1.0), '%s [notice] 1#1: start worker processes' % stamp(at(1.0))),
        ]
    cls = 'c.q.backend.QuickBiteApplication'
    secs = span
    return [
        (at(0.00), spring(at(0.00), 'INFO', 'main', cls,
                          'Starting QuickBiteApplication v%s using Java 21.0.2 with PID 1 '
                          '(/app/app.jar started by spring in /app)' % version)),
        (at(0.05), spring(at(0.05), 'INFO', 'main', cls, 'The following 1 profile is active: "prod"')),
        (at(0.30), spring(at(0.30), 'INFO', 'main', 'o.s.b.w.embedded.tomcat.TomcatWebServer',
                          'Tomcat initialized with port 8080 (http)')),
        (at(0.50), spring(at(0.50), 'INFO', 'main', 'com.zaxxer.hikari.HikariDataSource',
                          'HikariPool-1 - Starting...')),
        (at(0.60), spring(at(0.60), 'INFO', 'main', 'com.zaxxer.hikari.HikariDataSource',
                          'HikariPool-1 - Start completed.')),
        (at(0.80), spring(at(0.80), 'INFO', 'main', 'o.s.b.a.e.web.EndpointLinksResolver',
                          "Exposing 3 endpoint(s) beneath base path '/actuator'")),
        (at(0.95), spring(at(0.95), 'INFO', 'main', 'o.s.b.w.embedded.tomcat.TomcatWebServer',
                          "Tomcat started on port 8080 (http) with context path '/'")),
        (at(1.00), spring(at(1.00), 'INFO', 'main', cls,
                          'Started QuickBiteApplication in %.3f seconds (process running for %.3f)'
                          % (secs, secs + 0.4))),
    ]


def crash_lines(image, t):
    """Default output of a container that exits with an error at ``t``."""
    kind = kind_of(image)
    if kind == 'postgres':
        stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]
        return ['%s UTC [1] FATAL:  could not open configuration file "/etc/postgresql/postgresql.conf": '
                'No such file or directory' % stamp]
    if kind == 'redis':
        stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%d %b %Y %H:%M:%S.%f')[:-3]
        return ['1:M %s # Fatal error loading the DB: Permission denied. Exiting.' % stamp]
    if kind == 'frontend':
        stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y/%m/%d %H:%M:%S')
        return ['%s [emerg] 1#1: host not found in upstream "quickbite-backend" in '
                '/etc/nginx/conf.d/default.conf:12' % stamp]
    return [
        spring(t, 'ERROR', 'main', 'o.s.boot.SpringApplication', 'Application run failed'),
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name "
        "'entityManagerFactory': Unable to obtain connection from database",
        '\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory'
        '.initializeBean(AbstractAutowireCapableBeanFactory.java:1786)',
        'Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "quickbite"',
        '',
        '***************************',
        'APPLICATION FAILED TO START',
        '***************************',
    ]


def unready_lines(image, t):
    """What a container logs while its readiness probe keeps failing."""
    if kind_of(image) != 'spring':
        return []
    return [spring(t, 'WARN', 'nio-8080-exec-1', 'o.s.b.a.health.HealthEndpointSupport',
                   'Health contributor db (readiness) took too long: DOWN')]
