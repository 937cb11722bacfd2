# Copy to instance/config.py to override settings on this installation.
# It is read after the environment (app/config.py): a value set here wins over both the
# environment variable and the default. Names are Flask's settings, as listed in app/config.py.
#
# DATABASE_URL = "postgresql+psycopg://lamalle@127.0.0.1:5432/lamalle"
# SQLALCHEMY_DATABASE_URI = DATABASE_URL
# MAIL_SERVER = "smtp.example.org"
# MAIL_PORT = 587
# MAIL_USE_TLS = True
# MAIL_USERNAME = "lamalle"
# MAIL_PASSWORD = "..."
# MAIL_FROM = "La Malle <no-reply@example.org>"
# SITE_URL = "https://lamalle.example.org"
